import UVLoop

extension WebSocket {
    /// Completes a server handshake for a request an HTTP layer already parsed: validates the
    /// fields (``WebSocketHandshake/accept(method:version:headers:subprotocols:compression:)``),
    /// writes the 101 response and returns the session. `leftover` holds bytes read past the
    /// request head.
    ///
    /// On a bad request it writes the 400, 405 or 426 answer, closes the stream and throws
    /// ``WebSocketError`` (`handshakeFailed`).
    ///
    /// ```swift
    /// let socket = try await WebSocket.accept(stream, method: "GET", version: "HTTP/1.1", headers: fields)
    /// ```
    public static func accept(
        _ stream: any ByteStream, method: String, version: String, headers: [WebSocketHeaderField], leftover: Bytes = Bytes(),
        options: Options = Options()
    ) async throws -> WebSocket {
        let accepted: WebSocketHandshake.Accepted
        do throws(WebSocketHandshakeError) {
            accepted = try WebSocketHandshake.accept(
                method: method, version: version, headers: headers, subprotocols: options.subprotocols, compression: options.compression)
        } catch {
            try? stream.write(error.responseHead)
            _ = try? await stream.loop.withTimeout(options.closeTimeout) { try await stream.flush() }
            stream.close()
            throw WebSocketError(.handshakeFailed, peer: stream.description, error.reason)
        }
        try stream.write(accepted.responseHead)
        return WebSocket(
            stream: stream, role: .server, leftover: leftover, subprotocol: accepted.subprotocol, compression: accepted.compression,
            options: options)
    }

    /// Reads an upgrade request head from `stream` with ``ByteStream/readLine()`` and completes
    /// the handshake: a small standalone server without an HTTP layer (``upgradeWithTarget(_:options:)``
    /// also returns the request target).
    ///
    /// Bounded by ``Options/handshakeTimeout`` and ``Options/maxHeaderLines``; a bad request
    /// gets its 400/405/426 answer and a `handshakeFailed` error.
    ///
    /// ```swift
    /// let listener = try TCPListener(host: "127.0.0.1", port: 8080, on: loop)
    /// let client = try await listener.accept()
    /// loop.spawn {
    ///     let socket = try await WebSocket.upgrade(client)
    ///     for try await message in socket.messages { ... }
    /// }
    /// ```
    public static func upgrade(_ stream: any ByteStream, options: Options = Options()) async throws -> WebSocket {
        try await upgradeWithTarget(stream, options: options).socket
    }

    /// Like ``upgrade(_:options:)``, also returning the request target (`/chat?room=1`).
    public static func upgradeWithTarget(_ stream: any ByteStream, options: Options = Options()) async throws -> (
        socket: WebSocket, target: String
    ) {
        let head: RequestHead
        do {
            head = try await stream.loop.withTimeout(options.handshakeTimeout) { try await readRequestHead(stream, options: options) }
        } catch let error as WebSocketHandshakeError {
            try? stream.write(error.responseHead)
            _ = try? await stream.loop.withTimeout(options.closeTimeout) { try await stream.flush() }
            stream.close()
            throw WebSocketError(.handshakeFailed, peer: stream.description, error.reason)
        } catch {
            stream.close()
            throw WebSocketError(.handshakeFailed, peer: stream.description, "reading the request: \(error)")
        }
        let socket = try await accept(stream, method: head.method, version: head.version, headers: head.headers, options: options)
        return (socket, head.target)
    }

    /// A request head read by ``upgradeWithTarget(_:options:)``.
    struct RequestHead {
        var method: String
        var target: String
        var version: String
        var headers: [WebSocketHeaderField]
    }

    private static func readRequestHead(_ stream: any ByteStream, options: Options) async throws -> RequestHead {
        guard let line = try await stream.readLine() else {
            throw WebSocketHandshakeError(status: 400, "connection closed before a request")
        }
        guard let (method, target, version) = WebSocketHandshake.parseRequestLine(line) else {
            throw WebSocketHandshakeError(status: 400, "malformed request line")
        }
        let headers = try await readHeaderLines(stream, maxLines: options.maxHeaderLines)
        return RequestHead(method: method, target: target, version: version, headers: headers)
    }

    /// Reads header lines up to the blank line; throws a 400 for a malformed or missing end.
    static func readHeaderLines(_ stream: any ByteStream, maxLines: Int) async throws -> [WebSocketHeaderField] {
        var headers: [WebSocketHeaderField] = []
        while true {
            guard let line = try await stream.readLine() else {
                throw WebSocketHandshakeError(status: 400, "connection closed inside the header")
            }
            if line.isEmpty { return headers }
            guard headers.count < maxLines else { throw WebSocketHandshakeError(status: 400, "more than \(maxLines) header lines") }
            guard let field = WebSocketHandshake.parseHeaderLine(line) else {
                throw WebSocketHandshakeError(status: 400, "malformed header line")
            }
            headers.append(field)
        }
    }
}
