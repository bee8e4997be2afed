/// A response as a handler returns it: status, fields and a body, whole or streamed.
///
/// The server frames it: `Content-Length` for a whole body, chunked for a streamed one (or
/// close-delimited for an HTTP/1.0 client); `Content-Length` and `Transfer-Encoding` in
/// ``headerFields`` are ignored. `Date` and `Connection` are added.
///
/// ```swift
/// router.get("/") { _, _ in .text("hello\n") }
/// router.get("/count") { _, _ in
///     HTTPServerResponse(status: .ok) { body in
///         for i in 1...3 { try await body.write("\(i)\n") }
///     }
/// }
/// ```
public struct HTTPServerResponse {
    /// The body: bytes known up front, or a function that writes it.
    public enum Body {
        /// The whole body.
        case bytes(Bytes)
        /// A body written piece by piece; each write waits while the client lags.
        case stream((HTTPResponseBodyWriter) async throws -> Void)
        /// No HTTP response from the server: the function takes the connection over (a protocol
        /// upgrade such as WebSocket), with the bytes the client sent after the request, and
        /// writes what it answers itself. The stream is the function's from then on: it closes
        /// it, when it returns or later (a session that waits without a task keeps it open).
        case takeOver((any ByteStream, Bytes) async -> Void)
    }

    /// The status.
    public var status: HTTPResponse.Status
    /// The header fields.
    public var headerFields: HTTPFields {
        get { fields ?? (knownFields == .textPlain ? Self.textFields : HTTPFields()) }
        _modify {
            materializeFields()
            knownFields = .other
            yield &fields!
        }
        set {
            fields = newValue
            knownFields = .other
        }
    }
    /// The fields, once set or changed; nil while they are ``knownFields``, so that the common
    /// responses hold no `HTTPFields` (a reference to copy and release per response).
    private var fields: HTTPFields?
    /// Which fields the response has while ``fields`` is nil (then the server writes them from
    /// constant bytes, without encoding anything).
    private(set) var knownFields: KnownFields

    /// Fields the server can write without looking at ``headerFields``.
    enum KnownFields {
        /// No fields.
        case none
        /// `Content-Type: text/plain; charset=utf-8`, the fields of ``text(_:status:)``.
        case textPlain
        /// Others: encode ``headerFields``.
        case other
    }

    /// The body.
    public var body: Body {
        get {
            if let text { return .bytes(Bytes(text)) }
            return storedBody ?? .bytes(Bytes())
        }
        _modify {
            materializeText()
            if storedBody == nil { storedBody = .bytes(Bytes()) }
            yield &storedBody!
        }
        set {
            storedBody = newValue
            text = nil
        }
    }
    /// The body, unless it is empty or ``text``: nil then, so a text response holds no `Bytes`.
    private var storedBody: Body?
    /// The body of ``text(_:status:)`` while nobody asked for ``body``: the server copies its
    /// UTF-8 straight behind the head, without a `Bytes` of its own.
    private(set) var text: String?

    private mutating func materializeText() {
        guard let text else { return }
        storedBody = .bytes(Bytes(text))
        self.text = nil
    }

    private mutating func materializeFields() {
        if fields == nil { fields = headerFields }
    }
}

// The initializers are in an extension so that the struct keeps its memberwise initializer,
// which ``text(_:status:)`` uses: an initializer that assigns `self`'s properties one by one
// built the value in memory, copied it out and destroyed the original (a retain and a release
// of each of its references per response).
extension HTTPServerResponse {
    /// A response with a whole body (empty by default).
    public init(status: HTTPResponse.Status, headerFields: HTTPFields = HTTPFields(), body: Bytes = Bytes()) {
        self.init(status: status, headerFields: headerFields, storedBody: body.count > 0 ? .bytes(body) : nil)
    }

    /// A response whose body `write` streams.
    public init(
        status: HTTPResponse.Status, headerFields: HTTPFields = HTTPFields(),
        body write: @escaping (HTTPResponseBodyWriter) async throws -> Void
    ) {
        self.init(status: status, headerFields: headerFields, storedBody: .stream(write))
    }

    /// No fields are kept as ``KnownFields/none`` (no `HTTPFields`), others as given.
    private init(status: HTTPResponse.Status, headerFields: HTTPFields, storedBody: Body?) {
        let isFieldless = headerFields.isEmpty
        self.init(
            status: status, fields: isFieldless ? nil : headerFields, knownFields: isFieldless ? .none : .other,
            storedBody: storedBody)
    }

    /// A response that hands the connection to `body` instead of answering (see
    /// ``Body/takeOver(_:)``): for protocol upgrades. Only a request without a body, over
    /// HTTP/1.1, can be taken over; others get 400.
    ///
    /// ```swift
    /// router.get("/raw") { _, _ in
    ///     .takeOver { stream, leftover in
    ///         defer { stream.close() }
    ///         try? stream.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: example\r\nConnection: Upgrade\r\n\r\n")
    ///         ...
    ///     }
    /// }
    /// ```
    public static func takeOver(_ body: @escaping (any ByteStream, Bytes) async -> Void) -> HTTPServerResponse {
        var response = HTTPServerResponse(status: .switchingProtocols)
        response.body = .takeOver(body)
        return response
    }

    private static let textFields: HTTPFields = [.contentType: "text/plain; charset=utf-8"]

    /// A `text/plain; charset=utf-8` response.
    public static func text(_ text: String, status: HTTPResponse.Status = .ok) -> HTTPServerResponse {
        HTTPServerResponse(status: status, knownFields: .textPlain, text: text)
    }
}

/// Writes a streamed response body; see ``HTTPServerResponse/Body/stream(_:)``.
public final class HTTPResponseBodyWriter {
    let connection: HTTPServerConnection
    let isChunked: Bool
    let isDiscarding: Bool

    init(connection: HTTPServerConnection, isChunked: Bool, isDiscarding: Bool) {
        self.connection = connection
        self.isChunked = isChunked
        self.isDiscarding = isDiscarding
    }

    /// Writes `bytes` as the next piece of the body, waiting while the client lags behind.
    public func write(_ bytes: Bytes) async throws {
        guard !isDiscarding, bytes.count > 0 else { return }
        if !isChunked {
            try connection.writeBody(bytes)
        } else if bytes.count <= 1024 {
            try connection.writeBody(HTTPChunkedEncoding.chunk(bytes))
        } else {
            // Large chunks are queued as they are, between their framing: no copy.
            try connection.writeBody(HTTPChunkedEncoding.chunkHeader(count: bytes.count))
            try connection.stream.write(bytes)
            try connection.stream.write(HTTPChunkedEncoding.crlf)
        }
        try await connection.drain()
    }

    /// Writes the UTF-8 bytes of `text`.
    public func write(_ text: String) async throws {
        try await write(Bytes(text))
    }
}
