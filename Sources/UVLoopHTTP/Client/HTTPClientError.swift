/// Why an ``HTTPClient`` request failed: what, with whom, why.
public struct HTTPClientError: Error, Sendable, CustomStringConvertible {
    /// The class of failure.
    public enum Kind: Sendable, Equatable {
        /// The URL could not be used (not http/https, no host, bad port).
        case invalidURL
        /// No connection could be made (see the message for the system error).
        case connectFailed
        /// The connect or the whole request took longer than allowed.
        case timedOut
        /// The server's response broke HTTP/1.1 (see the message).
        case invalidResponse
        /// The connection closed before the response was complete.
        case connectionClosed
        /// More redirects than ``HTTPClientConfiguration/maxRedirects``.
        case tooManyRedirects
        /// `https` without a TLS connection factory.
        case unsupportedScheme
    }

    /// The class of failure.
    public let kind: Kind
    /// A sentence saying what failed, with whom and why.
    public let description: String

    init(_ kind: Kind, _ description: String) {
        self.kind = kind
        self.description = description
    }
}
