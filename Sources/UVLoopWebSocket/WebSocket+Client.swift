import UVLoop

extension WebSocket {
    /// Opens a client connection to a `ws://host[:port][/path]` URL: connects over TCP, sends
    /// the upgrade request (offering `options.compression` and `options.subprotocols`) and
    /// checks the 101 answer. Bounded by ``Options/handshakeTimeout``.
    ///
    /// Throws ``WebSocketError`` (`invalidURL`, `handshakeFailed`) or the connect error.
    ///
    /// ```swift
    /// let socket = try await WebSocket.connect(url: "ws://127.0.0.1:8080/chat", on: loop)
    /// try await socket.send(text: "hello")
    /// let reply = try await socket.receive()
    /// await socket.close()
    /// ```
    public static func connect(url: String, on loop: Loop, options: Options = Options()) async throws -> WebSocket {
        guard let (host, port, path) = parse(url: url) else {
            throw WebSocketError(.invalidURL, peer: url, "expected ws://host[:port][/path]")
        }
        let stream = try await TCPStream.connect(host: host, port: port, on: loop)
        let hostHeader = (host.contains(":") ? "[\(host)]" : host) + (port == 80 ? "" : ":\(port)")
        do {
            return try await loop.withTimeout(options.handshakeTimeout) {
                try await handshake(stream, host: hostHeader, path: path, options: options)
            }
        } catch {
            stream.close()
            if error is WebSocketError { throw error }
            throw WebSocketError(.handshakeFailed, peer: stream.description, "\(error)")
        }
    }

    /// Runs the client side of the opening handshake over `stream`, already connected.
    /// `host` is the `Host` field's value.
    public static func handshake(_ stream: any ByteStream, host: String, path: String, options: Options = Options()) async throws
        -> WebSocket
    {
        let key = WebSocketHandshake.makeKey()
        try stream.write(
            WebSocketHandshake.requestHead(
                host: host, path: path, key: key, subprotocols: options.subprotocols, compression: options.compression))
        guard let statusLine = try await stream.readLine(), let (_, status) = WebSocketHandshake.parseStatusLine(statusLine) else {
            throw WebSocketError(.handshakeFailed, peer: stream.description, "no valid status line")
        }
        let agreed: WebSocketHandshake.Agreed
        do {
            let headers = try await readHeaderLines(stream, maxLines: options.maxHeaderLines)
            agreed = try WebSocketHandshake.checkResponse(
                status: status, headers: headers, key: key, subprotocols: options.subprotocols, compression: options.compression)
        } catch let error as WebSocketHandshakeError {
            throw WebSocketError(.handshakeFailed, peer: stream.description, error.reason)
        }
        return WebSocket(stream: stream, role: .client, subprotocol: agreed.subprotocol, compression: agreed.compression, options: options)
    }

    /// Splits `ws://host[:port][/path]` (host may be `[::1]`); nil for anything else.
    static func parse(url: String) -> (host: String, port: Int, path: String)? {
        guard url.hasPrefix("ws://") else { return nil }
        let rest = url.dropFirst(5)
        let authority = rest.prefix { $0 != "/" && $0 != "?" }
        var path = String(rest.dropFirst(authority.count))
        if path.isEmpty { path = "/" } else if path.hasPrefix("?") { path = "/" + path }
        var host = Substring(authority)
        var port = 80
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return nil }
            let after = host[host.index(after: close)...]
            host = host[host.index(after: host.startIndex)..<close]
            if !after.isEmpty {
                guard after.hasPrefix(":"), let value = Int(after.dropFirst()) else { return nil }
                port = value
            }
        } else if let colon = host.lastIndex(of: ":") {
            guard let value = Int(host[host.index(after: colon)...]) else { return nil }
            port = value
            host = host[..<colon]
        }
        guard !host.isEmpty, (1...65535).contains(port) else { return nil }
        return (String(host), port, path)
    }
}
