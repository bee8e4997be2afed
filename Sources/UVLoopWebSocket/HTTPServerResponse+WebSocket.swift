import UVLoopHTTP

extension HTTPServerResponse {
    /// Answers `request` by upgrading the connection to a WebSocket and running `session` on it:
    /// the route of a WebSocket endpoint on an ``HTTPServer``.
    ///
    /// The handshake is checked as ``WebSocket/accept(_:method:version:headers:leftover:options:)``
    /// does: a bad upgrade request gets its 400, 405 or 426 answer and `session` does not run.
    /// When `session` returns, the socket is closed with 1000 if it is still open (what the
    /// session sent goes out first); frames the client sent right behind its request are not lost.
    ///
    /// ```swift
    /// router.get("/ws/echo") { request, _ in
    ///     .webSocket(request) { socket in
    ///         while let message = try? await socket.receive() { try? await socket.send(message) }
    ///     }
    /// }
    /// ```
    public static func webSocket(
        _ request: HTTPServerRequest, options: WebSocket.Options = WebSocket.Options(),
        session: @escaping (WebSocket) async -> Void
    ) -> HTTPServerResponse {
        upgrade(request, options: options) { socket in
            await session(socket)
            await socket.close()
        }
    }

    /// Answers `request` by upgrading the connection to a WebSocket and handing it to `adopt`,
    /// which owns it from then on: the connection stays open after `adopt` returns, until the
    /// socket closes (``WebSocket/close(code:reason:)``, a failure, or its stream's `close()`).
    ///
    /// For sessions that wait without a task (``WebSocket/whenReadable(_:)``): the HTTP
    /// connection's task ends when `adopt` returns, so an idle WebSocket holds no task at all.
    /// The handshake is checked as in ``webSocket(_:options:session:)``.
    ///
    /// ```swift
    /// router.get("/ws/hello") { request, _ in
    ///     .adoptingWebSocket(request) { socket in
    ///         try? socket.enqueue(text: "hello")
    ///         socket.stream.loop.spawn { await socket.close() }
    ///     }
    /// }
    /// ```
    public static func adoptingWebSocket(
        _ request: HTTPServerRequest, options: WebSocket.Options = WebSocket.Options(),
        adopt: @escaping (WebSocket) -> Void
    ) -> HTTPServerResponse {
        upgrade(request, options: options, then: adopt)
    }

    private static func upgrade(
        _ request: HTTPServerRequest, options: WebSocket.Options, then next: @escaping (WebSocket) async -> Void
    ) -> HTTPServerResponse {
        let method = request.head.method.rawValue
        let headers = request.head.headerFields.map { WebSocketHeaderField(name: $0.name.rawName, value: $0.value) }
        return .takeOver { stream, leftover in
            // The HTTP layer hands over only HTTP/1.1 requests. A refused handshake closes the stream.
            do {
                let socket = try await WebSocket.accept(
                    stream, method: method, version: "HTTP/1.1", headers: headers, leftover: leftover, options: options)
                await next(socket)
            } catch {
                stream.close()
            }
        }
    }
}
