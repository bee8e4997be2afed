/// A response as the client returns it: the head at once, the body as it arrives.
public struct HTTPClientResponse {
    /// Status and header fields.
    public var head: HTTPResponse
    /// The body; read it to the end (or let it go) so that the connection can be reused.
    public var body: HTTPClientResponseBody
}

/// A response body as an `AsyncSequence` of byte chunks, read from the connection on demand.
///
/// Reading it to the end returns a kept-alive connection to the client's pool; dropping it
/// unfinished closes the connection. Errors are ``HTTPClientError``s.
///
/// ```swift
/// let response = try await client.execute(.get, "http://127.0.0.1:8080/lines?count=3")
/// for try await chunk in response.body { print(chunk.string, terminator: "") }
/// ```
public final class HTTPClientResponseBody: AsyncSequence {
    public typealias Element = Bytes
    public typealias Failure = any Error

    private let client: HTTPClient
    private var connection: HTTPClientConnection?
    private let isKeepAlive: Bool
    private let deadline: ContinuousClock.Instant

    init(client: HTTPClient, connection: HTTPClientConnection?, isKeepAlive: Bool, deadline: ContinuousClock.Instant) {
        self.client = client
        self.connection = connection
        self.isKeepAlive = isKeepAlive
        self.deadline = deadline
    }

    deinit {
        // An unfinished body leaves the connection mid-message: it cannot be reused.
        connection?.stream.close()
    }

    /// Starts reading.
    public func makeAsyncIterator() -> Iterator { Iterator(body: self) }

    /// Reads the body chunk by chunk.
    public struct Iterator: AsyncIteratorProtocol {
        let body: HTTPClientResponseBody

        /// The next chunk, or `nil` at the end of the body.
        public mutating func next() async throws -> Bytes? { try await body.next() }
    }

    /// The whole body in one buffer; throws ``HTTPBodyTooLargeError`` past `limit` bytes.
    public func collect(upTo limit: Int = 16 * 1024 * 1024) async throws -> Bytes {
        var all: [UInt8] = []
        for try await chunk in self {
            if all.count + chunk.count > limit { throw HTTPBodyTooLargeError(limit: limit) }
            chunk.withUnsafeBytes { all.append(contentsOf: $0) }
        }
        return Bytes(all)
    }

    func next() async throws -> Bytes? {
        guard let connection else { return nil }
        while true {
            let event: HTTPParser.Event?
            do {
                event = try connection.parser.next()
            } catch {
                finish(reusing: false)
                throw HTTPClientError(.invalidResponse, "invalid response body from \(connection.origin): \(error.reason)")
            }
            switch event {
            case .body(let bytes):
                return bytes
            case .end:
                finish(reusing: isKeepAlive)
                return nil
            case .head:
                finish(reusing: false)
                throw HTTPClientError(.invalidResponse, "unexpected response head from \(connection.origin)")
            case nil:
                break
            }
            let bytes: Bytes?
            do {
                bytes = try await client.loop.withDeadline(deadline) { try await connection.stream.read() }
            } catch {
                finish(reusing: false)
                throw HTTPClient.clientError(error, origin: connection.origin, doing: "reading the response body")
            }
            guard let bytes else {
                do {
                    if try connection.parser.finish() != nil {
                        finish(reusing: false)
                        return nil
                    }
                } catch {}
                finish(reusing: false)
                throw HTTPClientError(.connectionClosed, "\(connection.origin) closed the connection inside the response body")
            }
            connection.parser.append(bytes)
        }
    }

    /// Ends the body: the connection goes back to the pool or is closed.
    func finish(reusing: Bool) {
        guard let connection else { return }
        self.connection = nil
        if reusing { client.release(connection) } else { connection.stream.close() }
    }
}
