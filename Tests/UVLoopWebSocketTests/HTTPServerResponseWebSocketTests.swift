import Testing
import UVLoop
import UVLoopHTTP
import UVLoopTestSupport
import UVLoopWebSocket

@Suite("HTTPServerResponse WebSocket routes")
struct HTTPServerResponseWebSocketTests {
    @Test("adoptingWebSocket: the connection stays open after adopt returns, and the socket it kept works")
    func adoptedSocketOutlivesTheHandler() async throws {
        let got = try await onLoop { loop -> [WebSocket.Message?] in
            var router = Router()
            var adopted: WebSocket?
            router.get("/ws") { request, _ in
                .adoptingWebSocket(request) { socket in
                    adopted = socket
                    try? socket.enqueue(text: "adopted")
                }
            }
            let listener = try TCPListener(host: "127.0.0.1", port: 0, on: loop)
            let server = HTTPServer(router: router)
            let running = loop.spawn { try await server.run(on: listener) }
            let client = try await WebSocket.connect(url: "ws://127.0.0.1:\(listener.port)/ws", on: loop)
            var got = [try await client.receive()]
            // adopt has returned (its greeting arrived) and the HTTP server let the connection go.
            let socket = try #require(adopted)
            #expect(socket.isOpen && !socket.stream.isClosed && server.connectionCount == 0)
            try await client.send(text: "still there?")
            got.append(try await socket.receive())
            try await socket.send(text: "yes")
            got.append(try await client.receive())
            // The adopted socket is the route's to close: the server's shutdown leaves it alone.
            server.shutdown()
            let closing = loop.spawn { await socket.close() }
            got.append(try await client.receive())
            await closing.value
            #expect(socket.stream.isClosed && client.closeCode == .normalClosure)
            try await loop.withTimeout(.seconds(5)) { await running.value }
            return got
        }
        #expect(got == [.text("adopted"), .text("still there?"), .text("yes"), nil])
    }

    @Test("webSocket(_:session:) closes with 1000 when the session returns, after what it sent")
    func sessionReturnCloses() async throws {
        let code = try await onLoop { loop -> WebSocketCloseCode? in
            var router = Router()
            router.get("/ws") { request, _ in
                .webSocket(request) { socket in try? await socket.send(text: "bye") }
            }
            let listener = try TCPListener(host: "127.0.0.1", port: 0, on: loop)
            let server = HTTPServer(router: router)
            let running = loop.spawn { try await server.run(on: listener) }
            let client = try await WebSocket.connect(url: "ws://127.0.0.1:\(listener.port)/ws", on: loop)
            #expect(try await client.receive() == .text("bye"))
            #expect(try await loop.withTimeout(.seconds(5)) { try await client.receive() } == nil)
            server.shutdown()
            try await loop.withTimeout(.seconds(5)) { await running.value }
            return client.closeCode
        }
        #expect(code == .normalClosure)
    }
}
