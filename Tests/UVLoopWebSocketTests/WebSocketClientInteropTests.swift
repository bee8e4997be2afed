import Testing
import UVLoop
import UVLoopTestSupport
import UVLoopWebSocket

/// The repository root, found from this file's path.
let repositoryRoot: String = {
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    return parts.joined(separator: "/")
}()

/// Runs `body` against scripts/ws_echo_server.py (Python's `websockets`), then stops it.
func withPythonServer<T>(
    on loop: Loop, arguments: [String] = [], _ body: (Int) async throws -> T
) async throws -> T {
    let server = try Subprocess.spawn(
        "python3", arguments: ["\(repositoryRoot)/scripts/ws_echo_server.py"] + arguments, standardInput: .pipe, standardOutput: .pipe,
        on: loop)
    defer {
        server.standardInput?.close()
        server.standardOutput?.close()
    }
    let line = try await loop.withTimeout(.seconds(20)) { try await server.standardOutput?.readLine() }
    let port = try #require(line.flatMap { Int($0.dropFirst(5)) }, "the Python server printed \(String(describing: line))")
    let result: Result<T, any Error>
    do { result = .success(try await body(port)) } catch { result = .failure(error) }
    server.standardInput?.close()
    _ = try await loop.withTimeout(.seconds(10)) { try await server.wait() }
    return try result.get()
}

@Suite("WebSocket client against Python websockets")
struct WebSocketClientInteropTests {
    @Test("echo of text, a large binary message and a fragment-free close, with and without compression", arguments: [true, false])
    func echo(compressed: Bool) async throws {
        let results = try await onLoop { loop -> [String] in
            try await withPythonServer(on: loop) { port in
                var options = WebSocket.Options()
                if compressed { options.compression = PerMessageDeflateOptions() }
                let socket = try await WebSocket.connect(url: "ws://127.0.0.1:\(port)/echo", on: loop, options: options)
                var results: [String] = ["compression \(socket.compression != nil)"]
                try await socket.send(text: "héllo 👋")
                results.append("\(try await socket.receive() ?? .text("<eof>"))")
                let big = Bytes((0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 % 253) })
                try await socket.send(binary: big)
                results.append(try await socket.receive() == .binary(big) ? "big ok" : "big differs")
                await socket.close(code: .normalClosure, reason: "bye")
                results.append("closed \(socket.closeCode?.rawValue ?? 0) \(socket.stream.isClosed)")
                return results
            }
        }
        #expect(results == ["compression \(compressed)", "text(\"héllo 👋\")", "big ok", "closed 1000 true"])
    }

    @Test("a server-initiated close reports its code and reason, and ends receive with nil")
    func serverClose() async throws {
        let result = try await onLoop { loop -> String in
            try await withPythonServer(on: loop) { port in
                let socket = try await WebSocket.connect(url: "ws://127.0.0.1:\(port)/close", on: loop)
                try await socket.send(text: "anything")
                let message = try await socket.receive()
                return "\(String(describing: message)) \(socket.closeCode?.rawValue ?? 0) \(socket.closeReason) \(socket.stream.isClosed)"
            }
        }
        #expect(result == "nil 4001 done true")
    }

    @Test("the server's ping is answered automatically")
    func pingAnswered() async throws {
        let reply = try await onLoop { loop -> WebSocket.Message? in
            try await withPythonServer(on: loop) { port in
                let socket = try await WebSocket.connect(url: "ws://127.0.0.1:\(port)/ping", on: loop)
                let reply = try await socket.receive()
                await socket.close()
                return reply
            }
        }
        #expect(reply == .text("pong: True"))
    }

    @Test("invalid UTF-8 from the server closes with 1007 and throws")
    func invalidUTF8() async throws {
        let error = try await onLoop { loop -> WebSocketError? in
            try await withPythonServer(on: loop) { port in
                let socket = try await WebSocket.connect(url: "ws://127.0.0.1:\(port)/bad-utf8", on: loop)
                try await socket.send(text: "go")
                do {
                    _ = try await socket.receive()
                    return nil
                } catch let error as WebSocketError {
                    #expect(socket.stream.isClosed)
                    return error
                }
            }
        }
        #expect(error?.kind == .protocolViolation)
        #expect(error?.closeCode == .invalidPayload)
    }

    @Test("a refused handshake and a bad URL throw readable errors")
    func handshakeErrors() async throws {
        let messages = try await onLoop { loop -> [String] in
            var messages: [String] = []
            do { _ = try await WebSocket.connect(url: "http://x/", on: loop) } catch { messages.append("\(error)") }
            // A TCP server that answers HTTP 200: not an upgrade.
            let listener = try TCPListener(host: "127.0.0.1", port: 0, on: loop)
            defer { listener.close() }
            loop.spawn {
                let peer = try await listener.accept()
                while let line = try await peer.readLine(), !line.isEmpty {}
                try peer.write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                try await peer.flush()
                peer.close()
            }
            do { _ = try await WebSocket.connect(url: "ws://127.0.0.1:\(listener.port)/", on: loop) } catch { messages.append("\(error)") }
            return messages
        }
        #expect(messages.count == 2)
        #expect(messages.first?.contains("expected ws://host[:port][/path]") == true)
        #expect(messages.last?.contains("the server answered 200, not 101 Switching Protocols") == true)
    }
}
