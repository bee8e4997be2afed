import Testing
import UVLoop
import UVLoopTestSupport

@Suite("TCP")
struct TCPTests {
    @Test("lines round-trip over loopback", arguments: ["127.0.0.1", "::1"])
    func roundTrip(host: String) async throws {
        let result = try await onLoop { loop -> [String] in
            let (client, server) = try await connectedPair(on: loop, host: host)
            defer { close(client, server) }
            try client.write("hello\r\nworld\n")
            try client.write("split ")
            try client.write("line\n")
            var got: [String] = []
            for _ in 0..<3 { got.append(try await server.readLine() ?? "<eof>") }
            try server.write("reply\n")
            got.append(try await client.readLine() ?? "<eof>")
            return got
        }
        #expect(result == ["hello", "world", "split line", "reply"])
    }

    @Test("port 0 gives an ephemeral port that addresses report", arguments: ["127.0.0.1", "::1"])
    func ephemeralPortAndAddresses(host: String) async throws {
        let ok = try await onLoop { loop -> Bool in
            let listener = try TCPListener(host: host, port: 0, on: loop)
            defer { listener.close() }
            #expect(listener.port > 0)
            let client = try await TCPStream.connect(host: host, port: listener.port, on: loop)
            let server = try await listener.accept()
            defer { close(client, server) }
            #expect(client.peerAddress?.port == listener.port)
            #expect(server.localAddress?.port == listener.port)
            #expect(server.peerAddress == client.localAddress)
            #expect(client.peerAddress?.host == host)
            #expect(server.peerAddress?.isIPv6 == (host == "::1"))
            return true
        }
        #expect(ok)
    }

    @Test("connect resolves names through getaddrinfo")
    func connectByName() async throws {
        let line = try await onLoop { loop -> String? in
            let listener = try TCPListener(host: "127.0.0.1", port: 0, on: loop)
            defer { listener.close() }
            let client = try await TCPStream.connect(host: "localhost", port: listener.port, on: loop)
            let server = try await listener.accept()
            defer { close(client, server) }
            try client.write("by name\n")
            return try await server.readLine()
        }
        #expect(line == "by name")
    }

    @Test("a refused connect reads as a sentence with the address")
    func connectRefused() async throws {
        let message = try await onLoop { loop -> String in
            // Bind then close to find a port nothing listens on.
            let probe = try TCPListener(host: "127.0.0.1", port: 0, on: loop)
            let port = probe.port
            probe.close()
            do {
                let stream = try await TCPStream.connect(host: "127.0.0.1", port: port, on: loop)
                stream.close()
                return "connected"
            } catch let error as UVError {
                #expect(error.code == UVError.Code.connectionRefused)
                return error.description
            }
        }
        #expect(message.hasPrefix("connect to 127.0.0.1:"))
        #expect(message.hasSuffix("failed: ECONNREFUSED (connection refused)"))
    }

    @Test("a name that does not resolve gives a UVError")
    func unresolvableName() async throws {
        let failed = try await onLoop { loop -> Bool in
            do {
                _ = try await loop.resolve(host: "no-such-host.invalid")
                return false
            } catch let error as UVError {
                return error.operation == "resolve" && error.code < 0
            }
        }
        #expect(failed)
    }

    @Test("listening on a port in use says EADDRINUSE and the address")
    func portInUse() async throws {
        let message = try await onLoop { loop -> String in
            let first = try TCPListener(host: "127.0.0.1", port: 0, on: loop)
            defer { first.close() }
            do {
                let second = try TCPListener(host: "127.0.0.1", port: first.port, on: loop)
                second.close()
                return "bound twice"
            } catch let error as UVError {
                #expect(error.code == UVError.Code.addressInUse)
                return error.description
            }
        }
        #expect(message.hasPrefix("listen on 127.0.0.1:"))
        #expect(message.contains("EADDRINUSE (address already in use)"))
    }

    @Test("a cancelled accept throws CancellationError promptly")
    func cancelledAccept() async throws {
        let outcome = try await onLoop { loop -> String in
            let listener = try TCPListener(host: "127.0.0.1", port: 0, on: loop)
            defer { listener.close() }
            var outcome = "accepted"
            let acceptor = loop.spawn {
                do { _ = try await listener.accept() } catch is CancellationError { outcome = "cancelled" }
            }
            try await loop.sleep(for: .milliseconds(5))
            acceptor.cancel()
            await acceptor.value
            return outcome
        }
        #expect(outcome == "cancelled")
    }

    @Test("a cancelled read throws CancellationError and the stream stays usable")
    func cancelledRead() async throws {
        let outcome = try await onLoop { loop -> [String] in
            let (client, server) = try await connectedPair(on: loop)
            defer { close(client, server) }
            var outcome: [String] = []
            let reader = loop.spawn {
                do { _ = try await server.readLine() } catch is CancellationError { outcome.append("cancelled") }
            }
            try await loop.sleep(for: .milliseconds(5))
            reader.cancel()
            await reader.value
            try client.write("after\n")
            outcome.append(try await server.readLine() ?? "<eof>")
            return outcome
        }
        #expect(outcome == ["cancelled", "after"])
    }

    @Test("a read cancelled from another thread ends promptly")
    func readCancelledFromAnotherThread() async throws {
        let outcome = try await onLoop { loop -> String in
            let (client, server) = try await connectedPair(on: loop)
            defer { close(client, server) }
            var outcome = "read"
            let reader = loop.spawn {
                do { _ = try await server.readLine() } catch is CancellationError { outcome = "cancelled" }
            }
            try await loop.sleep(for: .milliseconds(5))
            await Task.detached { reader.cancel() }.value
            await reader.value
            return outcome
        }
        #expect(outcome == "cancelled")
    }

    @Test("read() and a read in an already cancelled task throw CancellationError at once")
    func cancelledRawRead() async throws {
        let outcome = try await onLoop { loop -> [String] in
            let (client, server) = try await connectedPair(on: loop)
            defer { close(client, server) }
            var outcome: [String] = []
            var cancelledAt = ContinuousClock.now
            let reader = loop.spawn {
                do { _ = try await server.read() } catch is CancellationError { outcome.append("cancelled") }
                if Loop.current !== loop { outcome.append("OFF LOOP") }
                let delay = ContinuousClock.now - cancelledAt
                // Promptly, not waiting for data that never comes: 2 s, as a loaded machine running
                // every suite in parallel once took 0.2 s to run a loop that was ready.
                outcome.append(delay < .seconds(2) ? "promptly" : "late: \(delay)")
            }
            try await loop.sleep(for: .milliseconds(5))
            cancelledAt = .now
            loop.spawn { reader.cancel() }
            await reader.value
            let early = loop.spawn {
                withUnsafeCurrentTask { $0?.cancel() }
                do { _ = try await server.readLine() } catch is CancellationError { outcome.append("cancelled early") }
            }
            await early.value
            try client.write("after\n")
            outcome.append(try await server.readLine() ?? "<eof>")
            return outcome
        }
        #expect(outcome == ["cancelled", "promptly", "cancelled early", "after"])
    }

    @Test("withTimeout bounds a read that never gets data")
    func readTimeout() async throws {
        let timedOut = try await onLoop { loop -> Bool in
            let (client, server) = try await connectedPair(on: loop)
            defer { close(client, server) }
            do {
                _ = try await loop.withTimeout(.milliseconds(20)) { try await server.readLine() }
                return false
            } catch is TimeoutError {
                return true
            }
        }
        #expect(timedOut)
    }

    @Test("half-close: the peer reads to the end, then can still reply")
    func halfClose() async throws {
        let result = try await onLoop { loop -> [String] in
            let (client, server) = try await connectedPair(on: loop)
            defer { close(client, server) }
            try client.write("last words\nno newline")
            try await client.closeWrite()
            var lines: [String] = []
            while let line = try await server.readLine() { lines.append(line) }
            try server.write("goodbye\n")
            lines.append(try await client.readLine() ?? "<eof>")
            return lines
        }
        #expect(result == ["last words", "no newline", "goodbye"])
    }

    @Test("readLineBytes relays bytes exactly, CR and invalid UTF-8 included")
    func rawLinesAreVerbatim() async throws {
        let got = try await onLoop { loop -> [UInt8] in
            let (client, server) = try await connectedPair(on: loop)
            defer { close(client, server) }
            try client.write(Bytes([0x61, 0xFF, 0x0D, 0x0A]))
            return try await server.readLineBytes()?.array ?? []
        }
        #expect(got == [0x61, 0xFF, 0x0D, 0x0A])
    }

    @Test("a line over the limit throws LineTooLongError and the next line still arrives")
    func lineTooLongOverTCP() async throws {
        let result = try await onLoop { loop -> [String] in
            let (client, server) = try await connectedPair(on: loop)
            defer { close(client, server) }
            server.maxLineLength = 10
            try client.write(String(repeating: "x", count: 100_000) + "\nshort\n")
            var result: [String] = []
            do { _ = try await server.readLine() } catch let error as LineTooLongError { result.append("\(error.limit)") }
            result.append(try await server.readLine() ?? "<eof>")
            return result
        }
        #expect(result == ["10", "short"])
    }

    @Test("the reader sees the end of stream when the peer closes")
    func endOfStream() async throws {
        let line = try await onLoop { loop -> String? in
            let (client, server) = try await connectedPair(on: loop)
            defer { server.close() }
            client.close()
            return try await server.readLine()
        }
        #expect(line == nil)
    }

    @Test("writing after close throws a UVError")
    func writeAfterClose() async throws {
        let threw = try await onLoop { loop -> Bool in
            let (client, server) = try await connectedPair(on: loop)
            server.close()
            client.close()
            do {
                try client.write("late\n")
                return false
            } catch let error as UVError {
                return error.description.contains("write to")
            }
        }
        #expect(threw)
    }

    @Test("drain waits for a slow reader, then resumes when it catches up")
    func backpressure() async throws {
        let result = try await onLoop { loop -> (Bool, Int) in
            let (client, server) = try await connectedPair(on: loop)
            defer { close(client, server) }
            let chunk = Bytes([UInt8](repeating: 0x41, count: 64 * 1024))
            var written = 0
            var waited = false
            // Fill the socket buffers until the queue passes the high-water mark.
            while client.bufferedWriteCount <= client.highWaterMark {
                try client.write(chunk)
                written += chunk.count
                try await loop.sleep(for: .milliseconds(1))
            }
            let drainer = loop.spawn {
                try await client.drain()
                waited = true
            }
            try await loop.sleep(for: .milliseconds(10))
            #expect(!waited, "drain returned while the peer read nothing")
            var received = 0
            while received < written, let bytes = try await server.read() { received += bytes.count }
            await drainer.value
            return (waited, received)
        }
        #expect(result.0)
        #expect(result.1 > 0)
    }

    @Test("one Bytes value written to many streams arrives intact at each")
    func sharedWrite() async throws {
        let lines = try await onLoop { loop -> [String] in
            let listener = try TCPListener(host: "127.0.0.1", port: 0, on: loop)
            defer { listener.close() }
            var clients: [TCPStream] = []
            var servers: [TCPStream] = []
            for _ in 0..<5 {
                clients.append(try await TCPStream.connect(host: "127.0.0.1", port: listener.port, on: loop))
                servers.append(try await listener.accept())
            }
            defer { for stream in clients + servers { stream.close() } }
            let line: Bytes = "to everyone\n"
            for server in servers { try server.write(line) }
            var got: [String] = []
            for client in clients { got.append(try await client.readLine() ?? "<eof>") }
            return got
        }
        #expect(lines == Array(repeating: "to everyone", count: 5))
    }
}

@Suite("Stream lines")
struct StreamLinesTests {
    @Test("lines and rawLines iterate until the end of stream")
    func iterateLines() async throws {
        let result = try await onLoop { loop -> ([String], [String]) in
            let (client, server) = try await connectedPair(on: loop)
            defer { server.close() }
            try client.write("a\nb\r\nc")
            try await client.flush()
            client.close()
            var strings: [String] = []
            for try await line in server.lines { strings.append(line) }

            let (client2, server2) = try await connectedPair(on: loop)
            defer { server2.close() }
            try client2.write("x\ny\r\n")
            try await client2.closeWrite()
            var raw: [String] = []
            for try await line in server2.rawLines { raw.append(line.string) }
            client2.close()
            return (strings, raw)
        }
        #expect(result.0 == ["a", "b", "c"])
        #expect(result.1 == ["x\n", "y\r\n"])
    }
}
