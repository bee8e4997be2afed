/// The opening handshake (RFC 6455 §4) as pure functions over an HTTP request's or response's
/// fields, so any HTTP layer can drive it.
///
/// Server side:
/// ```swift
/// let accepted = try WebSocketHandshake.accept(method: "GET", version: "HTTP/1.1", headers: fields)
/// try stream.write(accepted.responseHead)     // 101 Switching Protocols
/// ```
/// On a bad request it throws ``WebSocketHandshakeError`` whose ``WebSocketHandshakeError/responseHead``
/// is the 400, 405 or 426 answer.
public enum WebSocketHandshake {
    /// The GUID RFC 6455 appends to the key.
    public static let guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    /// `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key`: base64(SHA-1(key + GUID)).
    public static func acceptKey(for key: String) -> String {
        Base64.encode(SHA1.hash(Array((key + guid).utf8)))
    }

    /// A fresh random `Sec-WebSocket-Key`: 16 random bytes in base64.
    public static func makeKey() -> String {
        var generator = SystemRandomNumberGenerator()
        return Base64.encode((0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    /// What a server agreed to in the handshake.
    public struct Accepted: Sendable, Equatable {
        /// The `Sec-WebSocket-Accept` value.
        public var acceptKey: String
        /// The chosen subprotocol, if any.
        public var subprotocol: String?
        /// The permessage-deflate settings, if negotiated.
        public var compression: PerMessageDeflateParameters?
        /// The fields of the 101 response.
        public var headers: [WebSocketHeaderField]

        /// The whole `HTTP/1.1 101 Switching Protocols` response head, blank line included.
        public var responseHead: String {
            var head = "HTTP/1.1 101 Switching Protocols\r\n"
            for field in headers { head += "\(field.name): \(field.value)\r\n" }
            return head + "\r\n"
        }
    }

    /// Validates a client's upgrade request and decides the answer.
    ///
    /// Requires GET, HTTP/1.1 or later, `Upgrade: websocket`, `Connection` containing `upgrade`,
    /// and a `Sec-WebSocket-Key` of 16 bytes in base64 (else 400, or 405 for another method), and
    /// `Sec-WebSocket-Version: 13` (else 426 with `Sec-WebSocket-Version: 13`). Picks the first
    /// subprotocol in the client's order that `subprotocols` lists, and permessage-deflate if
    /// `compression` is given and the client offers it.
    public static func accept(
        method: String, version: String, headers: [WebSocketHeaderField], subprotocols: [String] = [],
        compression: PerMessageDeflateOptions? = nil
    ) throws(WebSocketHandshakeError) -> Accepted {
        guard method == "GET" else {
            throw WebSocketHandshakeError(
                status: 405, "a WebSocket upgrade must use GET, not \(method)", headers: [WebSocketHeaderField(name: "Allow", value: "GET")]
            )
        }
        guard version == "HTTP/1.1" || version == "HTTP/2" || version == "HTTP/3" else {
            throw WebSocketHandshakeError(status: 400, "a WebSocket upgrade needs HTTP/1.1, not \(version)")
        }
        guard tokens(of: "Upgrade", in: headers).contains("websocket") else {
            throw WebSocketHandshakeError(status: 400, "missing Upgrade: websocket")
        }
        guard tokens(of: "Connection", in: headers).contains("upgrade") else {
            throw WebSocketHandshakeError(status: 400, "missing Connection: Upgrade")
        }
        let versions = values(of: "Sec-WebSocket-Version", in: headers)
        guard versions.count == 1, versions[0] == "13" else {
            throw WebSocketHandshakeError(
                status: 426, "unsupported Sec-WebSocket-Version \(versions.joined(separator: ", ")); this server speaks 13",
                headers: [WebSocketHeaderField(name: "Sec-WebSocket-Version", value: "13")])
        }
        let keys = values(of: "Sec-WebSocket-Key", in: headers)
        guard keys.count == 1, let decoded = Base64.decode(keys[0]), decoded.count == 16 else {
            throw WebSocketHandshakeError(status: 400, "Sec-WebSocket-Key must be 16 bytes in base64")
        }
        var accepted = Accepted(acceptKey: acceptKey(for: keys[0]), subprotocol: nil, compression: nil, headers: [])
        accepted.headers = [
            WebSocketHeaderField(name: "Upgrade", value: "websocket"),
            WebSocketHeaderField(name: "Connection", value: "Upgrade"),
            WebSocketHeaderField(name: "Sec-WebSocket-Accept", value: accepted.acceptKey),
        ]
        let offered = values(of: "Sec-WebSocket-Protocol", in: headers).flatMap { $0.split(separator: ",").map { $0.trimmingSpaces() } }
        if let chosen = offered.first(where: { subprotocols.contains($0) }) {
            accepted.subprotocol = chosen
            accepted.headers.append(WebSocketHeaderField(name: "Sec-WebSocket-Protocol", value: chosen))
        }
        if let compression,
            let (parameters, answer) = PerMessageDeflateNegotiation.accept(
                offers: values(of: "Sec-WebSocket-Extensions", in: headers), options: compression)
        {
            accepted.compression = parameters
            accepted.headers.append(WebSocketHeaderField(name: "Sec-WebSocket-Extensions", value: answer))
        }
        return accepted
    }

    /// A client's upgrade request head for `path` on `host` (with `:port` if not 80), blank line included.
    public static func requestHead(
        host: String, path: String, key: String, subprotocols: [String] = [], compression: PerMessageDeflateOptions? = nil,
        extraHeaders: [WebSocketHeaderField] = []
    ) -> String {
        var head = "GET \(path.isEmpty ? "/" : path) HTTP/1.1\r\nHost: \(host)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        head += "Sec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n"
        if !subprotocols.isEmpty { head += "Sec-WebSocket-Protocol: \(subprotocols.joined(separator: ", "))\r\n" }
        if let compression { head += "Sec-WebSocket-Extensions: \(PerMessageDeflateNegotiation.offer(compression))\r\n" }
        for field in extraHeaders { head += "\(field.name): \(field.value)\r\n" }
        return head + "\r\n"
    }

    /// What the client learns from a valid 101 response.
    public struct Agreed: Sendable, Equatable {
        /// The subprotocol the server chose, if any.
        public var subprotocol: String?
        /// The permessage-deflate settings, if the server accepted the offer.
        public var compression: PerMessageDeflateParameters?
    }

    /// Checks a server's response to a request made with `key`: 101, `Upgrade: websocket`,
    /// `Connection: upgrade`, the right `Sec-WebSocket-Accept`, a subprotocol and extensions
    /// that were offered. Throws ``WebSocketHandshakeError`` (status 0) saying what was wrong.
    public static func checkResponse(
        status: Int, headers: [WebSocketHeaderField], key: String, subprotocols: [String] = [], compression: PerMessageDeflateOptions? = nil
    ) throws(WebSocketHandshakeError) -> Agreed {
        guard status == 101 else { throw WebSocketHandshakeError("the server answered \(status), not 101 Switching Protocols") }
        guard tokens(of: "Upgrade", in: headers).contains("websocket") else { throw WebSocketHandshakeError("missing Upgrade: websocket") }
        guard tokens(of: "Connection", in: headers).contains("upgrade") else {
            throw WebSocketHandshakeError("missing Connection: Upgrade")
        }
        let accepts = values(of: "Sec-WebSocket-Accept", in: headers)
        guard accepts == [acceptKey(for: key)] else { throw WebSocketHandshakeError("wrong Sec-WebSocket-Accept \(accepts)") }
        var agreed = Agreed()
        let protocols = values(of: "Sec-WebSocket-Protocol", in: headers)
        if let chosen = protocols.first {
            guard protocols.count == 1, subprotocols.contains(chosen) else {
                throw WebSocketHandshakeError("the server chose subprotocol \(chosen), which was not offered")
            }
            agreed.subprotocol = chosen
        }
        let extensions = values(of: "Sec-WebSocket-Extensions", in: headers)
        if !extensions.isEmpty {
            guard let compression else { throw WebSocketHandshakeError("the server answered with extensions that were not offered") }
            agreed.compression = try PerMessageDeflateNegotiation.checkAnswer(extensions, options: compression)
        }
        return agreed
    }

    /// Every value of the field `name` (case-insensitive), trimmed.
    public static func values(of name: String, in headers: [WebSocketHeaderField]) -> [String] {
        let lowered = name.lowercased()
        return headers.filter { $0.name.lowercased() == lowered }.map { $0.value.trimmingSpaces() }
    }

    /// The comma-separated tokens of every `name` field, lowercased.
    public static func tokens(of name: String, in headers: [WebSocketHeaderField]) -> [String] {
        values(of: name, in: headers).flatMap { $0.split(separator: ",").map { $0.trimmingSpaces().lowercased() } }
    }
}
