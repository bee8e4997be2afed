/// An HTTP version, `HTTP/major.minor`.
public struct HTTPVersion: Sendable, Hashable, CustomStringConvertible {
    /// The major version (1).
    public var major: Int
    /// The minor version (0 or 1).
    public var minor: Int

    /// The version `HTTP/major.minor`.
    public init(major: Int, minor: Int) {
        self.major = major
        self.minor = minor
    }

    /// HTTP/1.0.
    public static let http10 = HTTPVersion(major: 1, minor: 0)
    /// HTTP/1.1.
    public static let http11 = HTTPVersion(major: 1, minor: 1)

    public var description: String { "HTTP/\(major).\(minor)" }
}

/// One header or trailer field as received: name and value bytes (the value without
/// surrounding whitespace), sharing the received buffer.
public struct HTTPRawField: Sendable, Equatable {
    /// The field name, in the case it was sent.
    public var name: Bytes
    /// The field value, without leading or trailing spaces and tabs.
    public var value: Bytes

    /// A field of `name` and `value`.
    public init(name: Bytes, value: Bytes) {
        self.name = name
        self.value = value
    }
}

/// How a message's body is delimited (RFC 9112 §6.3).
public enum HTTPBodyFraming: Sendable, Equatable {
    /// No body.
    case none
    /// Exactly this many bytes (Content-Length).
    case length(Int)
    /// Chunked transfer coding.
    case chunked
    /// Until the connection closes (responses only).
    case untilClose
}

/// A parsed request or response head, validated, with its framing worked out.
///
/// Byte fields share the buffer the head arrived in: keeping one keeps that buffer.
public struct HTTPRawHead: Sendable {
    /// The request method (requests; empty for responses).
    public var method: Bytes
    /// The request target, as sent (requests; empty for responses).
    public var target: Bytes
    /// The status code (responses; 0 for requests).
    public var status: Int
    /// The reason phrase (responses; empty for requests).
    public var reason: Bytes
    /// The version the peer sent.
    public var version: HTTPVersion
    /// The header fields, in order.
    public var fields: [HTTPRawField]
    /// How the body is delimited.
    public var framing: HTTPBodyFraming
    /// True if the connection may carry another message after this one: HTTP/1.1 without
    /// `Connection: close`, or HTTP/1.0 with `Connection: keep-alive`.
    public var isKeepAlive: Bool
    /// True for an HTTP/1.1 request with `Expect: 100-continue`.
    public var expectsContinue: Bool

    init(version: HTTPVersion) {
        self.init(method: Bytes.empty, target: Bytes.empty, version: version)
    }

    /// A request head (each `Bytes.empty` costs a global access and a retain: set once).
    init(method: Bytes, target: Bytes, version: HTTPVersion) {
        self.method = method
        self.target = target
        status = 0
        reason = Bytes.empty
        self.version = version
        fields = []
        framing = .none
        isKeepAlive = false
        expectsContinue = false
    }

    /// The value of the first field named `name` (compared without regard to ASCII case).
    public func value(of name: String) -> Bytes? {
        fields.first { HTTPSyntax.equalsIgnoringCase($0.name, name) }?.value
    }
}

extension HTTPRawField {
    /// True if the field's name is `name`, compared without regard to ASCII case.
    public func hasName(_ name: String) -> Bool {
        HTTPSyntax.equalsIgnoringCase(self.name, name)
    }
}
