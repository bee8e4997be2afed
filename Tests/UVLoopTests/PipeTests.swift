import Glibc
import Testing
import UVLoop
import UVLoopTestSupport

@Suite("Unix sockets and pipes")
struct PipeTests {
    @Test("lines round-trip over a Unix socket, and both ends report the path")
    func unixRoundTrip() async throws {
        let result = try await onLoop { loop -> [String] in
            try await withTemporaryDirectory { dir in
                let path = dir.file("s.sock")
                let listener = try UnixListener(path: path, on: loop)
                defer { listener.close() }
                let client = try await PipeStream.connect(path: path, on: loop)
                let server = try await listener.accept()
                defer { close(client, server) }
                #expect(client.peerPath == path)
                #expect(server.localPath == path)
                try client.write("hello\nsplit ")
                try client.write("line\n")
                var got = [try await server.readLine() ?? "<eof>", try await server.readLine() ?? "<eof>"]
                try await client.closeWrite()
                got.append(try await server.readLine() ?? "<eof>")
                try server.write("reply\n")
                got.append(try await client.readLine() ?? "<eof>")
                return got
            }
        }
        #expect(result == ["hello", "split line", "<eof>", "reply"])
    }

    @Test("connections that arrive before accept() wait for it, in order")
    func queuedConnections() async throws {
        let lines = try await onLoop { loop -> [String] in
            try await withTemporaryDirectory { dir in
                let listener = try UnixListener(path: dir.file("q.sock"), on: loop)
                defer { listener.close() }
                var clients: [PipeStream] = []
                for index in 0..<3 {
                    let client = try await PipeStream.connect(path: listener.path, on: loop)
                    try client.write("client \(index)\n")
                    clients.append(client)
                }
                defer { for client in clients { client.close() } }
                var lines: [String] = []
                for _ in 0..<3 {
                    let server = try await listener.accept()
                    lines.append(try await server.readLine() ?? "<eof>")
                    server.close()
                }
                return lines
            }
        }
        #expect(lines == ["client 0", "client 1", "client 2"])
    }

    @Test("connecting to a path where nothing is gives ENOENT naming the path")
    func connectMissing() async throws {
        let message = try await onLoop { loop -> String in
            try await withTemporaryDirectory { dir in
                do {
                    let stream = try await PipeStream.connect(path: dir.file("none.sock"), on: loop)
                    stream.close()
                    return "connected"
                } catch let error as UVError {
                    #expect(error.code == -ENOENT)
                    return error.description
                }
            }
        }
        #expect(message.hasPrefix("connect to Unix socket /tmp/uvloop-test-"))
        #expect(message.contains("none.sock failed: ENOENT"))
    }

    @Test("listening on a path in use fails with EADDRINUSE and leaves the first listener working")
    func pathInUse() async throws {
        let result = try await onLoop { loop -> (Int32, String?) in
            try await withTemporaryDirectory { dir in
                let first = try UnixListener(path: dir.file("a.sock"), on: loop)
                defer { first.close() }
                var code: Int32 = 0
                do {
                    let second = try UnixListener(path: first.path, on: loop)
                    second.close()
                } catch let error as UVError {
                    code = error.code
                }
                let client = try await PipeStream.connect(path: first.path, on: loop)
                let server = try await first.accept()
                defer { close(client, server) }
                try client.write("still here\n")
                return (code, try await server.readLine())
            }
        }
        #expect(result.0 == UVError.Code.addressInUse)
        #expect(result.1 == "still here")
    }

    @Test("close removes the socket file and fails a waiting accept with ECANCELED")
    func closeRemovesFile() async throws {
        let result = try await onLoop { loop -> (Bool, Bool, Int32) in
            try await withTemporaryDirectory { dir in
                let listener = try UnixListener(path: dir.file("c.sock"), on: loop)
                let existed = access(listener.path, F_OK) == 0
                var code: Int32 = 0
                let acceptor = loop.spawn {
                    do { _ = try await listener.accept() } catch let error as UVError { code = error.code }
                }
                await Task.yield()
                listener.close()
                await acceptor.value
                // `close()` removes the file itself, before it returns.
                return (existed, access(listener.path, F_OK) == 0, code)
            }
        }
        #expect(result.0)
        #expect(!result.1, "socket file left behind")
        #expect(result.2 == UVError.Code.cancelled)
    }

    @Test("a cancelled accept throws CancellationError and the listener stays usable")
    func cancelledAccept() async throws {
        let result = try await onLoop { loop -> (String, String?) in
            try await withTemporaryDirectory { dir in
                let listener = try UnixListener(path: dir.file("x.sock"), on: loop)
                defer { listener.close() }
                var outcome = "accepted"
                let acceptor = loop.spawn {
                    do { _ = try await listener.accept() } catch is CancellationError { outcome = "cancelled" }
                }
                await Task.yield()
                acceptor.cancel()
                await acceptor.value
                let client = try await PipeStream.connect(path: listener.path, on: loop)
                let server = try await listener.accept()
                defer { close(client, server) }
                try client.write("after\n")
                return (outcome, try await server.readLine())
            }
        }
        #expect(result.0 == "cancelled")
        #expect(result.1 == "after")
    }

    @Test("both ends of a pipe(2) work as streams, and closing the write end ends the read end")
    func osPipe() async throws {
        let lines = try await onLoop { loop -> [String] in
            let fds = try makePipe()
            let reader = try Stream.open(fileDescriptor: fds[0], on: loop)
            let writer = try PipeStream(fileDescriptor: fds[1], on: loop)
            defer { reader.close() }
            #expect(reader is PipeStream)
            try writer.write("one\ntwo\n")
            try await writer.flush()
            writer.close()
            var lines: [String] = []
            for try await line in reader.lines { lines.append(line) }
            return lines
        }
        #expect(lines == ["one", "two"])
    }

    @Test("a terminal opens as a TTYStream with its window size, and reads lines typed on it")
    func terminal() async throws {
        let result = try await onLoop { loop -> (Int, Int, String?, String?, [String]) in
            var master: Int32 = -1
            var slave: Int32 = -1
            var size = winsize(ws_row: 24, ws_col: 80, ws_xpixel: 0, ws_ypixel: 0)
            guard openpty(&master, &slave, nil, nil, &size) == 0 else { throw POSIXError(errno) }
            let tty = try #require(try Stream.open(fileDescriptor: slave, on: loop) as? TTYStream)
            let keyboard = try TTYStream(fileDescriptor: master, on: loop)
            defer {
                tty.close()
                keyboard.close()
                // libuv reopened the slave by path, so `slave` is still ours; it closes `master`.
                Glibc.close(slave)
            }
            let (width, height) = try tty.windowSize()
            try keyboard.write("typed\n")
            let typed = try await tty.readLine()
            try tty.write("shown\n")
            // The echo of the typed line comes first (the terminal is in normal mode).
            var shown: String?
            while let line = try await keyboard.readLine() {
                if line != "typed" {
                    shown = line
                    break
                }
            }
            try tty.setMode(.raw)
            try tty.setMode(.normal)
            TTYStream.resetMode()
            // Once closed, the handle's memory is gone: both calls throw the closed error instead of using it.
            tty.close()
            var afterClose: [String] = []
            do { _ = try tty.windowSize() } catch let error as UVError { afterClose.append(error.name) }
            do { try tty.setMode(.raw) } catch let error as UVError { afterClose.append(error.name) }
            return (width, height, typed, shown, afterClose)
        }
        #expect(result.4 == ["ECANCELED", "ECANCELED"])
        #expect(result.0 == 80)
        #expect(result.1 == 24)
        #expect(result.2 == "typed")
        #expect(result.3 == "shown")
    }

    @Test("a regular file or a closed descriptor is not a stream")
    func notAStream() async throws {
        let codes = try await onLoop { loop -> [Int32] in
            try await withTemporaryDirectory { dir in
                let fd = Glibc.open(dir.file("plain"), O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
                defer { Glibc.close(fd) }
                var codes: [Int32] = []
                for candidate in [fd, 987] {
                    do {
                        let stream = try Stream.open(fileDescriptor: candidate, on: loop)
                        stream.close()
                    } catch let error as UVError {
                        codes.append(error.code)
                    }
                }
                return codes
            }
        }
        #expect(codes == [UVError.Code.invalidArgument, UVError.Code.badFileDescriptor])
    }
}
