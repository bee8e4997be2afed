import Testing
import UVLoop
import UVLoopTestSupport
import UVLoopWebSocket

@Suite("WebSocket whenReadable")
struct WebSocketWhenReadableTests {
    @Test("whenReadable waits without a task and calls once a frame arrives; receive then has the message")
    func callsWhenFramesArrive() async throws {
        let result = try await onLoop { loop -> (calledEarly: Bool, message: WebSocket.Message?) in
            let (client, server) = try await webSocketPair(on: loop)
            defer {
                client.stream.close()
                server.stream.close()
            }
            let called = Event(on: loop)
            #expect(!server.hasBufferedInput)
            #expect(server.whenReadable { called.set() })
            // Nothing has arrived: the handler waits (a yield lets the loop run its callbacks).
            await Task.yield()
            let calledEarly = called.isSet
            try await client.send(text: "wake")
            try await loop.withTimeout(.seconds(5)) { try await called.wait() }
            return (calledEarly, try await server.receive())
        }
        #expect(!result.calledEarly)
        #expect(result.message == .text("wake"))
    }

    @Test("receiveAvailable answers a ping and returns pending without waiting; then the next message")
    func receiveAvailableAnswersPings() async throws {
        let result = try await onLoop { loop -> (first: WebSocket.Availability, second: WebSocket.Availability) in
            let (client, server) = try await webSocketPair(on: loop)
            defer {
                client.stream.close()
                server.stream.close()
            }
            let woken = Event(on: loop)
            server.whenReadable { woken.set() }
            try client.ping(Bytes("are you there"))
            try await loop.withTimeout(.seconds(5)) { try await woken.wait() }
            // Would wait for a message with receive(); returns at once instead.
            let first = try await loop.withTimeout(.seconds(5)) { try await server.receiveAvailable() }
            // The pong reached the client: its receive() takes it and then the server's message.
            try await server.send(text: "after the ping")
            #expect(try await client.receive() == .text("after the ping"))
            woken.clear()
            server.whenReadable { woken.set() }
            try await client.send(text: "hello")
            try await loop.withTimeout(.seconds(5)) { try await woken.wait() }
            return (first, try await server.receiveAvailable())
        }
        #expect(result.first == .pending)
        #expect(result.second == .message(.text("hello")))
    }

    @Test("whenReadable calls at once when frames are buffered already")
    func callsAtOnceWhenBuffered() async throws {
        let called = try await onLoop { loop -> Bool in
            let (clientStream, serverStream) = try await connectedPair(on: loop)
            defer { close(clientStream, serverStream) }
            let frame = WebSocketFrameEncoder.encode(WebSocketFrame(opcode: .text, payload: "early"), maskingKey: 7)
            let socket = WebSocket(stream: serverStream, role: .server, leftover: frame)
            #expect(socket.hasBufferedInput)
            var called = false
            socket.whenReadable { called = true }
            return called
        }
        #expect(called)
    }

    @Test("whenReadable calls when the peer closes the connection; receive then returns nil")
    func callsOnClose() async throws {
        let code = try await onLoop { loop -> WebSocketCloseCode? in
            let (client, server) = try await webSocketPair(on: loop)
            defer {
                client.stream.close()
                server.stream.close()
            }
            let called = Event(on: loop)
            server.whenReadable { called.set() }
            client.stream.close()
            try await loop.withTimeout(.seconds(5)) { try await called.wait() }
            #expect(try await server.receive() == nil)
            return server.closeCode
        }
        #expect(code == .abnormalClosure)
    }
}
