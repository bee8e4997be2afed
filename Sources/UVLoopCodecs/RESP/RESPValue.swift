/// One RESP2 value: what a Redis server sends back, and what a command is made of.
///
/// Strings are ``Bytes`` (binary-safe, sharing the storage of the chunk they arrived in).
/// The two nulls of RESP2 are `.bulkString(nil)` (`$-1`) and `.array(nil)` (`*-1`).
///
/// ```swift
/// let reply: RESPValue = .array([.bulkString("message"), .bulkString("chat"), .bulkString("hi")])
/// reply.array?[2].string   // "hi"
/// ```
public enum RESPValue: Sendable, Hashable {
    /// `+OK`: a short status line (no CR or LF inside).
    case simpleString(Bytes)
    /// `-ERR message`: the server's error line, whole (its first word is the error code).
    case error(Bytes)
    /// `:42`: a signed 64-bit integer.
    case integer(Int64)
    /// `$5 hello`: a binary-safe string; `nil` is the null bulk string `$-1`.
    case bulkString(Bytes?)
    /// `*2 ...`: an ordered list of values, possibly nested; `nil` is the null array `*-1`.
    case array([RESPValue]?)

    /// The null bulk string, `$-1`, which Redis sends for a missing key.
    public static let null = RESPValue.bulkString(nil)

    /// True for the null bulk string and the null array.
    public var isNull: Bool {
        switch self {
        case .bulkString(nil), .array(nil): true
        default: false
        }
    }

    /// The bytes of a simple or bulk string; `nil` for anything else.
    public var bytes: Bytes? {
        switch self {
        case .simpleString(let bytes), .bulkString(.some(let bytes)): bytes
        default: nil
        }
    }

    /// A simple or bulk string decoded as UTF-8 (invalid bytes become U+FFFD); `nil` otherwise.
    public var string: String? { bytes?.string }

    /// The value of an integer reply; `nil` otherwise.
    public var integer: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }

    /// The elements of a non-null array; `nil` otherwise.
    public var array: [RESPValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }
}

extension RESPValue: CustomStringConvertible {
    /// A compact, redis-cli-like rendering for logs and test failures: `"OK"`, `(error) ERR x`,
    /// `(integer) 3`, `(nil)`, `["a", "b"]`.
    public var description: String {
        switch self {
        case .simpleString(let bytes): return bytes.string
        case .error(let bytes): return "(error) \(bytes.string)"
        case .integer(let value): return "(integer) \(value)"
        case .bulkString(nil), .array(nil): return "(nil)"
        case .bulkString(.some(let bytes)): return "\"\(bytes.string)\""
        case .array(.some(let elements)): return "[" + elements.map(\.description).joined(separator: ", ") + "]"
        }
    }
}
