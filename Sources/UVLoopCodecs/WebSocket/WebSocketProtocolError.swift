/// A peer broke RFC 6455 (or RFC 7692): what, and the close code to answer with.
///
/// The session sends a close frame with ``closeCode`` and drops the connection.
public struct WebSocketProtocolError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The status code to close with: 1002 (protocol), 1007 (bad data), 1009 (too big).
    public let closeCode: WebSocketCloseCode
    /// What was wrong, as a sentence fragment (`"control frame of 126 bytes (limit 125)"`).
    public let reason: String

    /// An error closing with `closeCode` because of `reason`.
    public init(_ closeCode: WebSocketCloseCode, _ reason: String) {
        self.closeCode = closeCode
        self.reason = reason
    }

    public var description: String { "WebSocket protocol error (close \(closeCode)): \(reason)" }
}
