import Testing
import UVLoopTestSupport

@testable import UVLoop

/// One way to recognise "closed on this side" (``UVError/isClosed``) and "the peer went away"
/// (``UVError/isConnectionReset``), whatever the operation and the transport.
@Suite("UVError.isClosed and isConnectionReset")
struct ClosedErrorTests {
    /// Runs `body` and says whether it threw a UVError that `isClosed` recognises (or names what it did).
    private func closedOutcome(_ body: () async throws -> Void) async -> String {
        do {
            try await body()
            return "no error"
        } catch let error as UVError {
            return error.isClosed && !error.isConnectionReset ? "closed" : "\(error)"
        } catch {
            return "\(error)"
        }
    }

    /// Every stream operation, called after `stream` was closed.
    private func streamOperations(_ stream: Stream) async -> [String] {
        [
            await closedOutcome { try stream.write("late\n") },
            await closedOutcome { try stream.write(Bytes("late\n"), queueLimit: 1024) },
            await closedOutcome { _ = try await stream.read() },
            await closedOutcome { _ = try await stream.readLine() },
            await closedOutcome { _ = try await stream.readLineBytes() },
            await closedOutcome { try await stream.flush() },
            await closedOutcome {
                stream.highWaterMark = 0
                try await stream.drain()
            },
            await closedOutcome { try await stream.closeWrite() },
        ]
    }

    @Test("every operation on a closed TCP stream, and a read, flush and drain it interrupts, is isClosed")
    func tcp() async throws {
        let (after, during) = try await onLoop { loop -> ([String], [String]) in
            let (client, server) = try await connectedPair(on: loop)
            defer { server.close() }
            // Waiting when the close comes: a reader, and a flusher behind a peer that does not read.
            var during: [String] = []
            let reader = loop.spawn { during.append(await self.closedOutcome { _ = try await client.readLine() }) }
            try client.write(Bytes([UInt8](repeating: 0x61, count: 8 << 20)))
            let flusher = loop.spawn { during.append(await self.closedOutcome { try await client.flush() }) }
            await Task.yield()
            client.close()
            await reader.value
            await flusher.value
            var after = await streamOperations(client)
            after.append(await closedOutcome { try client.setNoDelay(true) })
            after.append(await closedOutcome { try client.setKeepAlive(.seconds(5)) })
            return (after, during)
        }
        #expect(after == Array(repeating: "closed", count: 10))
        #expect(during == ["closed", "closed"])
    }

    @Test("every operation on a closed Unix-socket pipe stream is isClosed")
    func pipe() async throws {
        let outcomes = try await onLoop { loop -> [String] in
            let dir = try TemporaryDirectory()
            defer { dir.remove() }
            let listener = try UnixListener(path: dir.file("s"), on: loop)
            defer { listener.close() }
            let client = try await PipeStream.connect(path: dir.file("s"), on: loop)
            let server = try await listener.accept()
            defer { server.close() }
            client.close()
            return await streamOperations(client)
        }
        #expect(outcomes == Array(repeating: "closed", count: 8))
    }

    @Test("every operation on a closed UDP socket, and a receive it interrupts, is isClosed")
    func udp() async throws {
        let outcomes = try await onLoop { loop -> [String] in
            let socket = try UDPSocket(host: "127.0.0.1", port: 0, on: loop)
            let address = try #require(socket.localAddress)
            var outcomes: [String] = []
            let receiver = loop.spawn { outcomes.append(await self.closedOutcome { _ = try await socket.receive() }) }
            await Task.yield()
            socket.close()
            await receiver.value
            outcomes += [
                await closedOutcome { _ = try await socket.receive() },
                await closedOutcome { try await socket.send("late", to: address) },
                await closedOutcome { try socket.setBroadcast(true) },
                await closedOutcome { try socket.setTTL(5) },
                await closedOutcome { try socket.joinMulticastGroup("239.1.2.3") },
            ]
            return outcomes
        }
        #expect(outcomes == Array(repeating: "closed", count: 6))
    }

    @Test("accept on a closed listener is isClosed")
    func listener() async throws {
        let outcome = try await onLoop { loop -> String in
            let listener = try TCPListener(host: "127.0.0.1", port: 0, on: loop)
            listener.close()
            return await closedOutcome { _ = try await listener.accept() }
        }
        #expect(outcome == "closed")
    }

    @Test("named codes match libuv's")
    func namedCodes() {
        let names = [
            UVError.Code.notFound, UVError.Code.alreadyExists, UVError.Code.permissionDenied, UVError.Code.connectionAborted,
            UVError.Code.notADirectory, UVError.Code.isADirectory, UVError.Code.closed,
        ].map { UVError(code: $0, operation: "x").name }
        #expect(names == ["ENOENT", "EEXIST", "EACCES", "ECONNABORTED", "ENOTDIR", "EISDIR", "ECANCELED"])
    }
}
