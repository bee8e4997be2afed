/// Bytes that are not a valid RESP reply, or that exceed a ``RESPDecoder/Limits`` bound.
///
/// A decoder that threw one stays failed: it throws the same error again, because the rest of
/// the stream can no longer be framed. The connection should be closed.
public struct RESPProtocolError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What was wrong, e.g. `bulk string of 600000000 bytes exceeds the limit of 536870912`.
    public let reason: String

    /// Creates the error; `reason` should read as a sentence fragment.
    public init(_ reason: String) { self.reason = reason }

    public var description: String { "RESP protocol violation: \(reason)" }
}
