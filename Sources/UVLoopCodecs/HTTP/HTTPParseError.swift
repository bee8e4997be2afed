/// Why an HTTP message was rejected, and the status a server answers with before closing.
///
/// Every error from ``HTTPParser`` ends the connection: the bytes after a malformed message
/// cannot be trusted to start the next one (RFC 9112 §2.2, §11.2 on request smuggling).
public struct HTTPParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The class of failure; each maps to one status code.
    public enum Kind: Sendable, Equatable {
        /// Malformed syntax or ambiguous framing (400).
        case badRequest
        /// The request target is over ``HTTPParserLimits/maxTargetLength`` (414).
        case targetTooLong
        /// The header section is over its byte or field-count limit (431).
        case headerTooLarge
        /// The body is over ``HTTPParserLimits/maxBodyBytes`` (413).
        case bodyTooLarge
        /// A transfer coding other than `chunked` (501).
        case unsupportedTransferCoding
        /// An HTTP version other than 1.x (505).
        case unsupportedVersion
        /// The stream ended in the middle of a message (no status: the peer is gone).
        case incomplete
    }

    /// The class of failure.
    public let kind: Kind
    /// What was wrong, for logs and the error response's body.
    public let reason: String

    /// Makes an error of `kind` saying `reason`.
    public init(_ kind: Kind, _ reason: String) {
        self.kind = kind
        self.reason = reason
    }

    /// The status code a server sends for this error.
    public var status: Int {
        switch kind {
        case .badRequest, .incomplete: 400
        case .targetTooLong: 414
        case .headerTooLarge: 431
        case .bodyTooLarge: 413
        case .unsupportedTransferCoding: 501
        case .unsupportedVersion: 505
        }
    }

    public var description: String { "invalid HTTP message (\(status)): \(reason)" }
}
