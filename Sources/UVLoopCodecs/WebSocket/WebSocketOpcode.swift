/// A WebSocket frame's opcode (RFC 6455 §5.2): what its payload is.
public enum WebSocketOpcode: UInt8, Sendable, CustomStringConvertible {
    /// A later fragment of a text or binary message.
    case continuation = 0x0
    /// The first (or only) frame of a UTF-8 text message.
    case text = 0x1
    /// The first (or only) frame of a binary message.
    case binary = 0x2
    /// Starts or answers the closing handshake; payload: optional status code and reason.
    case close = 0x8
    /// Asks the peer for a pong with the same payload.
    case ping = 0x9
    /// Answers a ping (or, unsolicited, a one-way heartbeat).
    case pong = 0xA

    /// True for close, ping and pong: at most 125 bytes of payload and never fragmented.
    public var isControl: Bool { rawValue & 0x8 != 0 }

    public var description: String {
        switch self {
        case .continuation: "continuation"
        case .text: "text"
        case .binary: "binary"
        case .close: "close"
        case .ping: "ping"
        case .pong: "pong"
        }
    }
}

/// Which end of a WebSocket connection this is; it decides the masking rules (RFC 6455 §5.1).
///
/// A client masks every frame it sends and requires unmasked frames; a server the reverse.
public enum WebSocketRole: Sendable {
    /// The end that opened the connection.
    case client
    /// The end that accepted the upgrade.
    case server
}
