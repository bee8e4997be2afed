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
/// It holds the head's bytes (start line through the empty line) and where each part lies in
/// them: copying a head costs one reference, and its byte properties are slices made on
/// access. Keeping one keeps the buffer the head arrived in.
public struct HTTPRawHead: Sendable {
    /// The head, start line through the empty line; every byte property is a slice of it.
    let bytes: Bytes
    /// Requests: the method is `0..<methodEnd`. Responses: 0 (no method).
    let methodEnd: Int
    /// Where the first field line starts (past the start line's CRLF). The start line's other
    /// parts end at fixed distances from it: a request's target 9 bytes before its CR (` HTTP/1.1`),
    /// and a response's reason phrase, if any, starts at 13 (`HTTP/1.1 200 `).
    let fieldsStart: Int
    /// The number of field lines.
    let fieldCount: Int
    /// The status code (responses; 0 for requests).
    public var status: Int
    /// The version the peer sent.
    public var version: HTTPVersion
    /// How the body is delimited.
    public var framing: HTTPBodyFraming
    /// True if the connection may carry another message after this one: HTTP/1.1 without
    /// `Connection: close`, or HTTP/1.0 with `Connection: keep-alive`.
    public var isKeepAlive: Bool
    /// True for an HTTP/1.1 request with `Expect: 100-continue`.
    public var expectsContinue: Bool

    /// The head `bytes`, whose parts lie where `layout` says.
    init(bytes: Bytes, layout: HTTPHeadLayout) {
        self.bytes = bytes
        methodEnd = layout.methodEnd
        fieldsStart = layout.fieldsStart
        fieldCount = layout.fieldCount
        status = layout.status
        version = layout.version
        framing = layout.framing
        isKeepAlive = layout.isKeepAlive
        expectsContinue = layout.expectsContinue
    }

    /// The bytes `start..<end` of the head, sharing its buffer.
    @inline(__always)
    private func slice(_ start: Int, _ end: Int) -> Bytes {
        Bytes(storage: bytes.storage, offset: bytes.offset + start, count: end - start)
    }

    /// The request method (requests; empty for responses).
    public var method: Bytes { slice(0, methodEnd) }

    /// The request target, as sent (requests; empty for responses).
    public var target: Bytes { methodEnd == 0 ? slice(0, 0) : slice(methodEnd + 1, fieldsStart - 11) }

    /// The reason phrase (responses; empty for requests).
    public var reason: Bytes { methodEnd > 0 ? slice(0, 0) : slice(min(13, fieldsStart - 2), fieldsStart - 2) }

    /// The header fields, in order.
    public var fields: HTTPRawFields {
        HTTPRawFields(bytes: bytes, start: fieldsStart, end: bytes.count - 2, count: fieldCount)
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
