import Testing
import UVLoop
import UVLoopTestSupport
import UVLoopWebSocket

@Suite("WebSocket.enqueue", .timeLimit(.minutes(1)))
struct WebSocketEnqueueTests {
    @Test("enqueued messages arrive in order without the sender waiting; invalid UTF-8 arrives as U+FFFD")
    func order() async throws {
        let got = try await onLoop { loop -> [WebSocket.Message?] in
            let (client, server) = try await webSocketPair(on: loop)
            try server.enqueue(text: "one")
            try server.enqueue(utf8Text: Bytes("two"))
            try server.enqueue(utf8Text: Bytes([0x61, 0xFF, 0x62]))
            try server.enqueue(binary: Bytes([1, 2]))
            var got: [WebSocket.Message?] = []
            for _ in 0..<4 { got.append(try await client.receive()) }
            loop.spawn { _ = try await server.receive() }
            await client.close()
            return got
        }
        #expect(got == [.text("one"), .text("two"), .text("a\u{FFFD}b"), .binary(Bytes([1, 2]))])
    }

    @Test("past the queue limit it throws WriteQueueFullError with the message queued; the socket stays open")
    func queueLimit() async throws {
        let (error, isOpen) = try await onLoop { loop -> (WriteQueueFullError?, Bool) in
            let (client, server) = try await webSocketPair(on: loop)
            defer {
                client.stream.close()
                server.stream.close()
            }
            let message = Bytes(Array(repeating: UInt8(ascii: "x"), count: 64 * 1024))
            // The client never reads: the messages stay queued within this loop iteration.
            for _ in 0..<100 {
                do {
                    try server.enqueue(utf8Text: message, queueLimit: 1 << 20)
                } catch let error as WriteQueueFullError {
                    return (error, server.isOpen)
                }
            }
            return (nil, server.isOpen)
        }
        #expect(error?.limit == 1 << 20)
        #expect((error?.queued ?? 0) > 1 << 20 && (error?.queued ?? .max) < (1 << 20) + 70 * 1024)
        #expect(isOpen)
    }

    @Test("a prepared message reaches a plain and a compressing socket alike, framed once for the plain ones")
    func preparedMessage() async throws {
        let got = try await onLoop { loop -> [WebSocket.Message?] in
            var compressed = WebSocket.Options()
            compressed.compression = PerMessageDeflateOptions()
            let (plainClient, plainServer) = try await webSocketPair(on: loop)
            let (zlibClient, zlibServer) = try await webSocketPair(on: loop, options: compressed)
            #expect(zlibServer.compression != nil && plainServer.compression == nil)
            let message = WebSocket.PreparedMessage(utf8Text: Bytes([0x68, 0x69, 0xC0]))
            try plainServer.enqueue(message)
            try zlibServer.enqueue(message)
            try plainServer.enqueue(message)
            var got = [try await plainClient.receive(), try await zlibClient.receive(), try await plainClient.receive()]
            for (client, server) in [(plainClient, plainServer), (zlibClient, zlibServer)] {
                loop.spawn { _ = try await server.receive() }
                await client.close()
            }
            got.append(message.payload == Bytes("hi\u{FFFD}") ? nil : .text("payload not repaired"))
            return got
        }
        #expect(got == [.text("hi\u{FFFD}"), .text("hi\u{FFFD}"), .text("hi\u{FFFD}"), nil])
    }

    @Test("enqueue after close throws notOpen")
    func afterClose() async throws {
        let kind = try await onLoop { loop -> WebSocketError.Kind? in
            let (clientStream, serverStream) = try await connectedPair(on: loop)
            defer { close(clientStream, serverStream) }
            var options = WebSocket.Options()
            options.closeTimeout = .milliseconds(50)
            let socket = WebSocket(stream: serverStream, role: .server, options: options)
            await socket.close()
            do {
                try socket.enqueue(text: "late")
                return nil
            } catch let error as WebSocketError {
                return error.kind
            }
        }
        #expect(kind == .notOpen)
    }
}
