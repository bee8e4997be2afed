/// What went wrong talking to Redis. Every description names the server and reads as a
/// sentence: `redis 127.0.0.1:6379: GET timed out after 0.2 s`.
public enum RedisError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The server answered with an error reply, whole: `WRONGTYPE Operation against a key
    /// holding the wrong kind of value`. Its first word is the error code (``code``).
    case server(String)
    /// No usable connection: refused, reset, closed by the server, failed AUTH or SELECT, or
    /// lost while the command was in flight (it may or may not have run). The text says which.
    case connection(String)
    /// No reply within the command's time limit. The reply, if it comes, is still consumed in
    /// order and dropped.
    case timeout(String)
    /// The server sent bytes that are not RESP, or over a ``RESPDecoder/Limits`` bound, or a
    /// reply of a type the command cannot have; the connection was closed.
    case protocolViolation(String)
    /// A `redis://` URL that cannot be parsed.
    case invalidURL(String)
    /// The client or subscription was closed by ``RedisClient/close()``.
    case closed

    /// For a server error, its code: `WRONGTYPE`, `ERR`, `NOAUTH`; `nil` otherwise.
    public var code: String? {
        guard case .server(let message) = self else { return nil }
        return message.split(separator: " ", maxSplits: 1).first.map(String.init)
    }

    public var description: String {
        switch self {
        case .server(let message): "redis server error: \(message)"
        case .connection(let message): message
        case .timeout(let message): message
        case .protocolViolation(let message): message
        case .invalidURL(let message): "invalid redis URL: \(message)"
        case .closed: "redis client closed"
        }
    }
}
