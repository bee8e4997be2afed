import Glibc
import Testing
import UVLoop
import UVLoopTestSupport

@Suite("Files")
struct FileSystemTests {
    @Test("writes, then reads back whole, at an offset, and nil at the end")
    func writeAndRead() async throws {
        let result = try await onLoop { loop -> (String, String?, Bool, Int) in
            try await withTemporaryDirectory { dir in
                let path = dir.file("data.txt")
                let out = try await File.open(path, .writeOnly, creating: true, truncating: true, on: loop)
                try await out.write("hello\n")
                try await out.write(Bytes("world\n"))
                try await out.close()
                let file = try await File.open(path, on: loop)
                let whole = try await file.readToEnd().string
                let atOffset = try await file.read(upTo: 5, at: 6)?.string
                let atEnd = try await file.read() == nil
                let size = try await file.info().size
                try await file.close()
                return (whole, atOffset, atEnd, size)
            }
        }
        #expect(result.0 == "hello\nworld\n")
        #expect(result.1 == "world")
        #expect(result.2)
        #expect(result.3 == 12)
    }

    @Test("appending writes go to the end; writing at an offset overwrites in place")
    func appendAndOverwrite() async throws {
        let text = try await onLoop { loop -> String in
            try await withTemporaryDirectory { dir in
                let path = dir.file("log")
                let first = try await File.open(path, .writeOnly, creating: true, on: loop)
                try await first.write("one\n")
                try await first.close()
                let appender = try await File.open(path, .writeOnly, appending: true, on: loop)
                try await appender.write("two\n")
                try await appender.close()
                let patcher = try await File.open(path, .readWrite, on: loop)
                try await patcher.write("ONE", at: 0)
                let text = try await patcher.readToEnd().string
                try await patcher.close()
                return text
            }
        }
        #expect(text == "ONE\ntwo\n")
    }

    @Test("stat, mkdir, listing, rename, unlink and rmdir")
    func directoryOperations() async throws {
        let result = try await onLoop { loop -> ([DirectoryEntry], FileInfo, [DirectoryEntry], Bool) in
            try await withTemporaryDirectory { dir in
                let fs = loop.fileSystem
                try await fs.makeDirectory(dir.file("sub"), permissions: 0o700)
                let file = try await File.open(dir.file("a.txt"), .writeOnly, creating: true, permissions: 0o600, on: loop)
                try await file.write("abc")
                try await file.close()
                let before = try await fs.contentsOfDirectory(dir.path)
                let info = try await fs.info(dir.file("a.txt"))
                #expect(try await fs.info(dir.file("sub")).kind == .directory)
                #expect(try await fs.info(dir.file("sub")).permissions == 0o700)
                try await fs.rename(dir.file("a.txt"), to: dir.file("sub/b.txt"))
                let inside = try await fs.contentsOfDirectory(dir.file("sub"))
                try await fs.removeFile(dir.file("sub/b.txt"))
                try await fs.removeDirectory(dir.file("sub"))
                return (before, info, inside, try await fs.exists(dir.file("sub")))
            }
        }
        #expect(result.0 == [DirectoryEntry(name: "a.txt", kind: .file), DirectoryEntry(name: "sub", kind: .directory)])
        #expect(result.1.size == 3)
        #expect(result.1.kind == .file)
        #expect(result.1.permissions == 0o600)
        #expect(result.1.modificationTime > 1_600_000_000)
        #expect(result.2 == [DirectoryEntry(name: "b.txt", kind: .file)])
        #expect(!result.3)
    }

    @Test("failures are UVErrors naming the path")
    func errors() async throws {
        let errors = try await onLoop { loop -> [UVError] in
            try await withTemporaryDirectory { dir in
                var errors: [UVError] = []
                func record(_ body: () async throws -> Void) async {
                    do { try await body() } catch let error as UVError { errors.append(error) } catch {}
                }
                await record { _ = try await File.open(dir.file("missing"), on: loop) }
                await record { try await loop.fileSystem.makeDirectory(dir.path) }
                await record { _ = try await File.open(dir.path, .readOnly, creating: true, exclusive: true, on: loop) }
                try await loop.fileSystem.makeDirectory(dir.file("full"))
                try await File.open(dir.file("full/x"), .writeOnly, creating: true, on: loop).close()
                await record { try await loop.fileSystem.removeDirectory(dir.file("full")) }
                let file = try await File.open(dir.file("full/x"), on: loop)
                try await file.close()
                await record { _ = try await file.read() }
                try await loop.fileSystem.removeFile(dir.file("full/x"))
                try await loop.fileSystem.removeDirectory(dir.file("full"))
                return errors + [UVError(code: 0, operation: dir.path)]
            }
        }
        let dir = try #require(errors.last?.operation)
        #expect(errors.dropLast().map(\.code) == [-ENOENT, -EEXIST, -EEXIST, -ENOTEMPTY, -EBADF])
        #expect(errors.first?.description == "open \(dir)/missing failed: ENOENT (no such file or directory)")
        #expect(errors[3].target == "\(dir)/full")
    }

    @Test("a request in an already cancelled task throws CancellationError and does nothing")
    func alreadyCancelled() async throws {
        let result = try await onLoop { loop -> (String, Bool) in
            try await withTemporaryDirectory { dir in
                var outcome = "done"
                let task = loop.spawn {
                    withUnsafeCurrentTask { $0?.cancel() }
                    do { try await loop.fileSystem.makeDirectory(dir.file("never")) } catch is CancellationError { outcome = "cancelled" }
                }
                await task.value
                return (outcome, try await loop.fileSystem.exists(dir.file("never")))
            }
        }
        #expect(result.0 == "cancelled")
        #expect(!result.1)
    }
}
