import Testing
import UVLoop
import UVLoopTestSupport
import UVLoopWebSocket

/// A server session and a client session over a real TCP pair, after a real handshake.
func webSocketPair(on loop: Loop, options: WebSocket.Options = WebSocket.Options()) async throws -> (client: WebSocket, server: WebSocket) {
    let listener = try TCPListener(host: "127.0.0.1", port: 0, on: loop)
    defer { listener.close() }
    let clientStream = try await TCPStream.connect(host: "127.0.0.1", port: listener.port, on: loop)
    let serverStream = try await listener.accept()
    var serverSocket: WebSocket?
    let upgraded = Event(on: loop)
    loop.spawn {
        serverSocket = try await WebSocket.upgrade(serverStream, options: options)
        upgraded.set()
    }
    let client = try await WebSocket.handshake(clientStream, host: "127.0.0.1", path: "/", options: options)
    try await upgraded.wait()
    return (client, try #require(serverSocket))
}

@Suite("WebSocket session")
struct WebSocketSessionTests {
    @Test("client and server sessions exchange messages both ways, with and without compression", arguments: [false, true])
    func exchange(compressed: Bool) async throws {
        let got = try await onLoop { loop -> [WebSocket.Message?] in
            var options = WebSocket.Options()
            if compressed { options.compression = PerMessageDeflateOptions() }
            let (client, server) = try await webSocketPair(on: loop, options: options)
            #expect((client.compression != nil) == compressed && (server.compression != nil) == compressed)
            try await client.send(text: "to server")
            try await server.send(binary: Bytes([1, 2, 3]))
            var got = [try await server.receive(), try await client.receive()]
            let serverDone = Event(on: loop)
            loop.spawn {
                got.append(try await server.receive())
                serverDone.set()
            }
            await client.close(code: .goingAway, reason: "done")
            try await loop.withTimeout(.seconds(5)) { try await serverDone.wait() }
            #expect(server.closeCode == .goingAway && server.closeReason == "done")
            #expect(client.closeCode == .goingAway && client.stream.isClosed && server.stream.isClosed)
            return got
        }
        #expect(got == [.text("to server"), .binary(Bytes([1, 2, 3])), nil])
    }

    @Test("close gives up after the close timeout when the peer never answers")
    func closeTimeout() async throws {
        let elapsed = try await onLoop { loop -> Duration in
            let (clientStream, serverStream) = try await connectedPair(on: loop)
            defer { close(clientStream, serverStream) }
            var options = WebSocket.Options()
            options.closeTimeout = .milliseconds(200)
            let socket = WebSocket(stream: serverStream, role: .server, options: options)
            let start = ContinuousClock.now
            await socket.close()
            #expect(serverStream.isClosed && !socket.isOpen)
            // The peer got the close frame: 0x88, length 2, code 1000.
            let frame = try await clientStream.read()
            #expect(frame?.array.prefix(4) == [0x88, 0x02, 0x03, 0xE8])
            return ContinuousClock.now - start
        }
        #expect(elapsed >= .milliseconds(200) && elapsed < .seconds(3))
    }

    @Test("bytes read past the handshake are the first frames")
    func leftover() async throws {
        let message = try await onLoop { loop -> WebSocket.Message? in
            let (clientStream, serverStream) = try await connectedPair(on: loop)
            defer { close(clientStream, serverStream) }
            let frame = WebSocketFrameEncoder.encode(WebSocketFrame(opcode: .text, payload: "early"), maskingKey: 7)
            let socket = WebSocket(stream: serverStream, role: .server, leftover: frame)
            return try await socket.receive()
        }
        #expect(message == .text("early"))
    }

    @Test("sending after close throws notOpen")
    func sendAfterClose() async throws {
        let kind = try await onLoop { loop -> WebSocketError.Kind? in
            let (clientStream, serverStream) = try await connectedPair(on: loop)
            defer { close(clientStream, serverStream) }
            var options = WebSocket.Options()
            options.closeTimeout = .milliseconds(50)
            let socket = WebSocket(stream: serverStream, role: .server, options: options)
            await socket.close()
            do {
                try await socket.send(text: "late")
                return nil
            } catch let error as WebSocketError {
                return error.kind
            }
        }
        #expect(kind == .notOpen)
    }

    @Test("upgrade answers a version-8 request with 426 and Sec-WebSocket-Version: 13")
    func upgradeRefusesVersion() async throws {
        let (head, kind) = try await onLoop { loop -> (String, WebSocketError.Kind?) in
            let (clientStream, serverStream) = try await connectedPair(on: loop)
            defer { close(clientStream, serverStream) }
            try clientStream.write(
                "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n"
            )
            var kind: WebSocketError.Kind?
            do { _ = try await WebSocket.upgrade(serverStream) } catch let error as WebSocketError { kind = error.kind }
            var head = ""
            while let bytes = try await clientStream.read() { head += bytes.string }
            return (head, kind)
        }
        #expect(kind == .handshakeFailed)
        #expect(head.hasPrefix("HTTP/1.1 426 Upgrade Required\r\n") && head.contains("Sec-WebSocket-Version: 13\r\n"))
    }

    @Test("a second task receiving at the same time gets concurrentReceive; the first still gets its message")
    func concurrentReceive() async throws {
        let (kind, message) = try await onLoop { loop -> (WebSocketError.Kind?, WebSocket.Message?) in
            let (client, server) = try await webSocketPair(on: loop)
            var first: WebSocket.Message?
            let done = Event(on: loop)
            loop.spawn {
                first = try await server.receive()
                done.set()
            }
            await Task.yield()
            var kind: WebSocketError.Kind?
            do {
                _ = try await loop.withTimeout(.seconds(5)) { try await server.receive() }
            } catch let error as WebSocketError {
                kind = error.kind
            }
            try await client.send(text: "one")
            try await loop.withTimeout(.seconds(5)) { try await done.wait() }
            loop.spawn { _ = try await server.receive() }
            await client.close()
            return (kind, first)
        }
        #expect(kind == .concurrentReceive)
        #expect(message == .text("one"))
    }

    @Test("the URL parser takes host, port and path")
    func urls() async throws {
        let ok = try await onLoop { loop -> Bool in
            let listener = try TCPListener(host: "::1", port: 0, on: loop)
            defer { listener.close() }
            loop.spawn {
                let stream = try await listener.accept()
                let (socket, target) = try await WebSocket.upgradeWithTarget(stream)
                try await socket.send(text: target)
                await socket.close()
            }
            let socket = try await WebSocket.connect(url: "ws://[::1]:\(listener.port)/room?x=1", on: loop)
            let message = try await socket.receive()
            _ = try await socket.receive()
            return message == .text("/room?x=1")
        }
        #expect(ok)
    }
}
