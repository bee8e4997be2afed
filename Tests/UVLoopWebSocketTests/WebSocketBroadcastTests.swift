import Testing
import UVLoop
import UVLoopTestSupport
import UVLoopWebSocket

@Suite("WebSocket.broadcast", .timeLimit(.minutes(1)))
struct WebSocketBroadcastTests {
    @Test("a message reaches plain and compressing sockets but the sender's, in order, and none after a socket began closing")
    func delivery() async throws {
        let (got, closingBytes) = try await onLoop { loop -> ([[WebSocket.Message?]], [UInt8]) in
            var compressed = WebSocket.Options()
            compressed.compression = PerMessageDeflateOptions()
            var quick = WebSocket.Options()
            quick.closeTimeout = .milliseconds(100)
            let pairs = [
                try await webSocketPair(on: loop), try await webSocketPair(on: loop),
                try await webSocketPair(on: loop, options: compressed),
            ]
            let closing = try await webSocketPair(on: loop, options: quick)
            // Its closing handshake has begun (the close frame is queued) when the messages go out.
            let closed = loop.spawn { await closing.server.close() }
            while closing.server.isOpen { await Task.yield() }
            let servers = pairs.map(\.server) + [closing.server]
            var overLimit: [WebSocket] = []
            WebSocket.broadcast(WebSocket.PreparedMessage(text: "one"), to: servers, except: servers[0], queueLimit: 1 << 20) {
                overLimit.append($0)
            }
            WebSocket.broadcast(WebSocket.PreparedMessage(text: "two"), to: servers, except: nil, queueLimit: 1 << 20) {
                overLimit.append($0)
            }
            var got: [[WebSocket.Message?]] = []
            for (index, pair) in pairs.enumerated() {
                var messages: [WebSocket.Message?] = []
                for _ in 0..<(index == 0 ? 1 : 2) { messages.append(try await pair.client.receive()) }
                got.append(messages)
            }
            // The raw bytes the closing socket sent, until the server gives up waiting for the
            // client's close frame and closes the connection.
            var raw: [UInt8] = []
            while let bytes = try await closing.client.stream.read() { bytes.withUnsafeBytes { raw += $0 } }
            await closed.value
            closing.client.stream.close()
            for (client, server) in pairs {
                loop.spawn { _ = try await server.receive() }
                await client.close()
            }
            got.append(overLimit.isEmpty ? [] : [nil])
            return (got, raw)
        }
        #expect(got == [[.text("two")], [.text("one"), .text("two")], [.text("one"), .text("two")], []])
        // One close frame (1000, no reason), and no message after it.
        #expect(closingBytes == [0x88, 0x02, 0x03, 0xE8])
    }

    @Test("a socket whose backlog passes the limit is handed to the callback; the others keep receiving")
    func overLimit() async throws {
        let outcome = try await onLoop { loop -> (Int, Bool, Bool) in
            let fast = try await webSocketPair(on: loop)
            let slow = try await webSocketPair(on: loop)
            defer { for socket in [fast.client, fast.server, slow.client, slow.server] { socket.stream.close() } }
            let message = WebSocket.PreparedMessage(text: String(repeating: "x", count: 60_000))
            var flagged: [WebSocket] = []
            var rounds = 0
            var fastMessages = 0
            // `slow.client` never reads: its server's backlog grows past the limit within a few rounds.
            while flagged.isEmpty && rounds < 10_000 {
                WebSocket.broadcast(message, to: [fast.server, slow.server], except: nil, queueLimit: 256 * 1024) {
                    flagged.append($0)
                }
                rounds += 1
                // Let the loop hand the queues to the kernel, and the fast client read its message.
                if case .text(let text) = try await fast.client.receive(), text.utf8.count == 60_000 { fastMessages += 1 }
            }
            return (flagged.count, flagged.first === slow.server, fastMessages == rounds && rounds > 1)
        }
        #expect(outcome.0 == 1)
        #expect(outcome.1)
        #expect(outcome.2)
    }
}
