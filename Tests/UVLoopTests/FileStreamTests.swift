import Glibc
import Testing
import UVLoop
import UVLoopTestSupport

/// Opens `path` with `flags` (close-on-exec), for tests that hand a descriptor to a stream.
func openDescriptor(_ path: String, _ flags: Int32, permissions: mode_t = 0o644) throws -> Int32 {
    let fd = open(path, flags | O_CLOEXEC, permissions)
    guard fd >= 0 else { throw POSIXError(errno) }
    return fd
}

/// The inode `fd` refers to, or nil when it is not open. Tests compare inodes, not descriptor
/// numbers: a closed number is reused at once by tests running in parallel.
func inode(of fd: Int32) -> UInt? {
    var info = stat()
    return fstat(fd, &info) == 0 ? UInt(info.st_ino) : nil
}

/// The whole content of the file at `path`, read with the C library.
func contents(of path: String) throws -> String {
    let fd = try openDescriptor(path, O_RDONLY)
    defer { _ = Glibc.close(fd) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = Glibc.read(fd, &buffer, buffer.count)
        guard count > 0 else { break }
        bytes += buffer[0..<count]
    }
    return String(decoding: bytes, as: UTF8.self)
}

@Suite("FileStream and standard streams over any descriptor")
struct FileStreamTests {
    @Test("a regular file opens as a FileStream whose lines read like a socket's (the `prog < file` case)")
    func regularFileReadsLines() async throws {
        let lines = try await withTemporaryDirectory { dir -> [String] in
            let path = dir.file("input.txt")
            // 3000 lines span several 64 KiB read requests, so lines cross chunk boundaries.
            let text = (1...3000).map { "line \($0) " + String(repeating: "x", count: 40) }.joined(separator: "\n")
            let writer = try openDescriptor(path, O_WRONLY | O_CREAT)
            _ = text.utf8CString.withUnsafeBufferPointer { Glibc.write(writer, $0.baseAddress, $0.count - 1) }
            _ = Glibc.close(writer)
            let fd = try openDescriptor(path, O_RDONLY)
            let fileInode = inode(of: fd)
            let lines = try await onLoop { loop in
                let stream = try Stream.byteStream(fileDescriptor: fd, on: loop)
                defer { stream.close() }
                #expect(stream is FileStream)
                var lines: [String] = []
                for try await line in stream.lines { lines.append(line) }
                return lines
            }
            // close() closed the descriptor it was given.
            #expect(fileInode != nil && inode(of: fd) != fileInode)
            return lines
        }
        #expect(lines.count == 3000)
        #expect(lines.first == "line 1 " + String(repeating: "x", count: 40))
        #expect(lines.last == "line 3000 " + String(repeating: "x", count: 40))
    }

    @Test("/dev/null is a FileStream: reading gives end of stream, writing and flushing succeed")
    func devNull() async throws {
        let fd = try openDescriptor("/dev/null", O_RDWR)
        let outcome = try await onLoop { loop -> (Bool, Bytes?, String?, Int) in
            let stream = try Stream.byteStream(fileDescriptor: fd, on: loop)
            defer { stream.close() }
            let read = try await stream.read()
            let line = try await stream.readLine()
            try stream.write("dropped\n")
            try await stream.flush()
            return (stream is FileStream, read, line, stream.bufferedWriteCount)
        }
        #expect(outcome.0)
        #expect(outcome.1 == nil)
        #expect(outcome.2 == nil)
        #expect(outcome.3 == 0)
    }

    @Test("writes to a regular file land in order, flush waits for them, and closeWrite refuses more (the `> log` case)")
    func regularFileWrites() async throws {
        let (written, refusedAsClosed) = try await withTemporaryDirectory { dir -> (String, Bool) in
            let path = dir.file("log.txt")
            let fd = try openDescriptor(path, O_WRONLY | O_CREAT | O_TRUNC)
            let refused = try await onLoop { loop -> Bool in
                let stream = try Stream.byteStream(fileDescriptor: fd, on: loop)
                defer { stream.close() }
                for index in 1...2000 { try stream.write("line \(index)\n") }
                try await stream.drain()
                try stream.write("last\n")
                try await stream.closeWrite()
                #expect(stream.bufferedWriteCount == 0)
                do {
                    try stream.write("after closeWrite\n")
                    return false
                } catch let error as UVError {
                    return error.isClosed
                }
            }
            return (try contents(of: path), refused)
        }
        let expected = (1...2000).map { "line \($0)\n" }.joined() + "last\n"
        #expect(written == expected)
        #expect(refusedAsClosed)
    }

    @Test("pipes, sockets and the terminal keep their own stream types")
    func streamDescriptorsKeepTheirTypes() async throws {
        let fds = try makePipe()
        let kinds = try await onLoop { loop -> [Bool] in
            let reader = try Stream.byteStream(fileDescriptor: fds[0], on: loop)
            let writer = try Stream.byteStream(fileDescriptor: fds[1], on: loop)
            defer {
                reader.close()
                writer.close()
            }
            try writer.write("through the pipe\n")
            let line = try await reader.readLine()
            return [reader is PipeStream, writer is PipeStream, line == "through the pipe"]
        }
        #expect(kinds == [true, true, true])
    }

    @Test("a descriptor that is not open is EBADF, naming it")
    func closedDescriptor() async throws {
        let message = try await onLoop { loop -> String in
            do {
                _ = try Stream.byteStream(fileDescriptor: 1_000_000, on: loop)
                return "opened"
            } catch let error as UVError {
                #expect(error.code == UVError.Code.badFileDescriptor)
                return error.description
            }
        }
        #expect(message.contains("file descriptor 1000000"))
    }

    @Test("a descriptor made non-blocking by a PipeStream on the same pipe: writes wait for room (EAGAIN) instead of failing")
    func nonBlockingDescriptorWaitsForRoom() async throws {
        let fds = try makePipe()
        let total = try await onLoop { loop -> Int in
            // uv_pipe_open switches the shared write end to non-blocking mode.
            let sharing = try PipeStream(fileDescriptor: fds[1], on: loop)
            let reader = try PipeStream(fileDescriptor: fds[0], on: loop)
            defer { close(sharing, reader) }
            // Fill the pipe first, so the stream's first write request gets EAGAIN.
            var filler = [UInt8](repeating: 0x2D, count: 4096)
            var prefilled = 0
            while true {
                let count = Glibc.write(fds[1], &filler, filler.count)
                if count <= 0 { break }
                prefilled += count
            }
            let writer = try FileStream(fileDescriptor: fds[1], closesDescriptor: false, on: loop)
            defer { writer.close() }
            let line = Bytes(String(repeating: "x", count: 99) + "\n")
            for _ in 0..<3000 { try writer.write(line) }
            // Nobody reads yet: the write must wait for room, not fail with EAGAIN at once.
            do {
                try await loop.withTimeout(.milliseconds(100)) { try await writer.flush() }
                Issue.record("flushed into a full pipe")
            } catch is TimeoutError {}
            var total = 0
            while total < prefilled + 300_000, let chunk = try await reader.read() { total += chunk.count }
            try await writer.flush()
            return total - prefilled
        }
        #expect(total == 300_000)
    }
}
