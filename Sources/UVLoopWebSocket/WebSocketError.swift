import UVLoop

/// A WebSocket session error: what went wrong, with whom.
public struct WebSocketError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure.
    public enum Kind: Sendable, Equatable {
        /// The opening handshake failed (the detail says why).
        case handshakeFailed
        /// The peer broke the protocol; the connection was closed with ``WebSocketError/closeCode``.
        case protocolViolation
        /// A send or ping after the closing handshake began.
        case notOpen
        /// A URL that is not `ws://host[:port][/path]`.
        case invalidURL
        /// No pong came back for a keep-alive ping within the interval.
        case keepAliveTimeout
        /// ``WebSocket/receive()`` called while another task is already receiving.
        case concurrentReceive
    }

    /// What kind of failure.
    public let kind: Kind
    /// The peer, as the stream describes it.
    public let peer: String
    /// Why, as a sentence fragment.
    public let detail: String
    /// The close code sent to the peer, where one was.
    public let closeCode: WebSocketCloseCode?

    init(_ kind: Kind, peer: String, _ detail: String, closeCode: WebSocketCloseCode? = nil) {
        self.kind = kind
        self.peer = peer
        self.detail = detail
        self.closeCode = closeCode
    }

    public var description: String {
        let code = closeCode.map { " (closed with \($0))" } ?? ""
        return "WebSocket with \(peer): \(detail)\(code)"
    }
}
