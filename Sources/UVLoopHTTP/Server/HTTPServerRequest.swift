/// A request as a handler sees it: the head, and the body still to be read.
public struct HTTPServerRequest {
    /// The head as parsed, or as a handler set it.
    private enum Head {
        case raw(HTTPRawHead)
        case converted(HTTPRequest)
    }

    private var storage: Head
    private let rawMethod: HTTPRequest.Method

    /// The method, known without building ``head``: the router and the server need only it.
    var method: HTTPRequest.Method {
        if case .converted(let head) = storage { return head.method }
        return rawMethod
    }

    /// Method, path, authority and header fields.
    ///
    /// Built from the received bytes on first use (once per request: a handler that never
    /// looks at the header fields does not pay for their `HTTPFields`).
    public var head: HTTPRequest {
        get {
            switch storage {
            case .converted(let head): return head
            case .raw(let raw):
                return body.connection?.head(of: raw, method: rawMethod, generation: body.generation)
                    ?? HTTPRequestConversion.request(from: raw, method: rawMethod)
            }
        }
        set { storage = .converted(newValue) }
    }

    /// The body, read on demand: the client is not read faster than the handler reads.
    public var body: HTTPRequestBody

    init(raw: HTTPRawHead, method: HTTPRequest.Method, body: HTTPRequestBody) {
        storage = .raw(raw)
        rawMethod = method
        self.body = body
    }

    /// The request target (path and query) as received, or as a handler set it.
    private var target: String {
        switch storage {
        case .converted(let head): return head.path ?? "/"
        // Targets up to 15 bytes (`/`, `/echo`) are small strings: no allocation.
        case .raw(let raw): return raw.target.string
        }
    }

    /// Calls `body` with the bytes of ``path``.
    func withPathBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        switch storage {
        case .raw(let raw):
            return raw.target.withUnsafeBytes { target in
                let end = target.firstIndex(of: UInt8(ascii: "?")) ?? target.count
                return body(UnsafeRawBufferPointer(rebasing: target[..<end]))
            }
        case .converted:
            var path = String(path)
            return path.withUTF8 { body(UnsafeRawBufferPointer($0)) }
        }
    }

    /// The path without the query.
    public var path: Substring {
        let full = target
        // Searched as UTF-8 (its indices are the string's): no grapheme breaking per character.
        guard let question = full.utf8.firstIndex(of: UInt8(ascii: "?")) else { return full[...] }
        return full[..<question]
    }

    /// The value of query parameter `name` (`?name=value`), without percent-decoding.
    public func queryParameter(_ name: String) -> Substring? {
        let full = target
        guard let question = full.utf8.firstIndex(of: UInt8(ascii: "?")) else { return nil }
        for pair in full[full.index(after: question)...].split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if parts[0] == name { return parts.count > 1 ? parts[1] : "" }
        }
        return nil
    }
}

/// A request body as an `AsyncSequence` of byte chunks, with chunked framing removed.
///
/// Reading it is what reads the connection, so a slow handler slows the client (TCP
/// backpressure). A body can be read once; for `Expect: 100-continue`, the first read sends
/// `100 Continue`. Errors: ``HTTPParseError`` for a malformed or oversized body, `UVError`
/// if the connection fails, `TimeoutError`-like closes after the body timeout.
///
/// ```swift
/// for try await chunk in request.body { total += chunk.count }
/// ```
public struct HTTPRequestBody: AsyncSequence {
    public typealias Element = Bytes
    public typealias Failure = any Error

    let connection: HTTPServerConnection?
    let generation: Int

    /// Starts reading.
    public func makeAsyncIterator() -> Iterator { Iterator(connection: connection, generation: generation) }

    /// Reads the body chunk by chunk.
    public struct Iterator: AsyncIteratorProtocol {
        let connection: HTTPServerConnection?
        let generation: Int

        /// The next chunk, or `nil` at the end of the body.
        public mutating func next() async throws -> Bytes? {
            guard let connection else { return nil }
            return try await connection.nextBodyChunk(generation: generation)
        }
    }

    /// The whole body in one buffer; throws ``HTTPBodyTooLargeError`` past `limit` bytes.
    public func collect(upTo limit: Int) async throws -> Bytes {
        var chunks: [Bytes] = []
        var total = 0
        for try await chunk in self {
            total += chunk.count
            if total > limit { throw HTTPBodyTooLargeError(limit: limit) }
            chunks.append(chunk)
        }
        if chunks.count == 1 { return chunks[0] }
        var all: [UInt8] = []
        all.reserveCapacity(total)
        for chunk in chunks { chunk.withUnsafeBytes { all.append(contentsOf: $0) } }
        return Bytes(all)
    }
}

/// Thrown by ``HTTPRequestBody/collect(upTo:)`` for a body over its limit.
public struct HTTPBodyTooLargeError: Error, Sendable, CustomStringConvertible {
    /// The limit that was passed.
    public let limit: Int
    public var description: String { "body longer than \(limit) bytes" }
}
