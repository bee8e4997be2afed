import Glibc
import Testing
import UVLoop
import UVLoopTestSupport

@Suite("File: whole files and closing in defer")
struct FileContentsTests {
    @Test("File.write then File.read round-trips a file; appending adds to it")
    func roundTrip() async throws {
        let text = try await withTemporaryDirectory { dir in
            try await onLoop { loop -> String in
                let path = dir.file("notes.txt")
                try await File.write("first\n", to: path, on: loop)
                try await File.write(Bytes("second\n"), to: path, appending: true, on: loop)
                let twice = try await File.read(path, on: loop).string
                try await File.write("replaced\n", to: path, on: loop)
                return twice + (try await File.read(path, on: loop).string)
            }
        }
        #expect(text == "first\nsecond\nreplaced\n")
    }

    @Test("File.read throws ByteLimitExceededError naming the path over its limit, UVError naming it when missing")
    func readErrors() async throws {
        let (limitError, missing) = try await withTemporaryDirectory { dir in
            try await onLoop { loop -> (ByteLimitExceededError?, String) in
                let path = dir.file("big")
                try await File.write(Bytes([UInt8](repeating: 7, count: 3000)), to: path, on: loop)
                #expect(try await File.read(path, limit: 3000, on: loop).count == 3000)
                var limitError: ByteLimitExceededError?
                do { _ = try await File.read(path, limit: 2999, on: loop) } catch let error as ByteLimitExceededError { limitError = error }
                var missing = ""
                do {
                    _ = try await File.read(dir.file("absent"), on: loop)
                } catch let error as UVError {
                    missing = error.description
                }
                return (limitError, missing)
            }
        }
        #expect(limitError?.source.hasSuffix("/big") == true)
        #expect(limitError?.limit == 2999)
        #expect(missing.contains("absent"))
        #expect(missing.contains("ENOENT"))
    }

    @Test("a File closes synchronously in defer, even when the body throws")
    func closeInDefer() async throws {
        let (closedAfterThrow, descriptorGone) = try await withTemporaryDirectory { dir in
            try await onLoop { loop -> (Bool, Bool) in
                let path = dir.file("deferred")
                var opened: File?
                var fileInode: UInt?
                do {
                    let file = try await File.open(path, .writeOnly, creating: true, on: loop)
                    defer { file.close() }
                    opened = file
                    fileInode = inode(of: file.descriptor)
                    try await file.write("partial")
                    throw CancellationError()
                } catch is CancellationError {}
                let file = try #require(opened)
                // Closing again does nothing (in async code outside `defer`, `close()` is the async one).
                try await file.close()
                return (file.isClosed, fileInode != nil && inode(of: file.descriptor) != fileInode)
            }
        }
        #expect(closedAfterThrow)
        #expect(descriptorGone)
    }
}
