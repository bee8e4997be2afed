/// An HTTP/1.1 client over a keep-alive connection pool per origin: bodies of known length or
/// chunked both ways, streamed response bodies, connect and whole-request timeouts, optional
/// redirects, and a connection factory for `https`.
///
/// ```swift
/// try Loop.run { loop in
///     let client = HTTPClient(on: loop)
///     defer { client.close() }
///     let response = try await client.execute(.get, "http://127.0.0.1:8080/")
///     print(response.head.status, try await response.body.collect().string)
/// }
/// ```
///
/// A client belongs to its loop: use it from that loop's tasks. Errors are ``HTTPClientError``s.
public final class HTTPClient {
    /// The loop the client's connections belong to.
    public let loop: Loop
    /// The timeouts, pool size, redirect policy and connection factory.
    public let configuration: HTTPClientConfiguration
    private var idle: [String: [HTTPClientConnection]] = [:]

    /// A client on `loop`.
    public init(on loop: Loop, configuration: HTTPClientConfiguration = HTTPClientConfiguration()) {
        self.loop = loop
        self.configuration = configuration
    }

    /// Idle connections in the pool, all origins together.
    public var idleConnectionCount: Int { idle.values.reduce(0) { $0 + $1.count } }

    /// Closes the idle connections; requests can still be made afterwards.
    public func close() {
        for connections in idle.values { for connection in connections { connection.stream.close() } }
        idle = [:]
    }

    /// Sends `method` to `url` with `headerFields` and `body`; returns once the response
    /// head has arrived (read its body next).
    public func execute(
        _ method: HTTPRequest.Method, _ url: String, headerFields: HTTPFields = HTTPFields(),
        body: HTTPClientRequestBody = .none
    ) async throws -> HTTPClientResponse {
        let deadline = ContinuousClock.now + configuration.requestTimeout
        var url = try HTTPURL(url)
        var method = method
        var body = body
        var redirects = 0
        while true {
            let response = try await send(method, url, headerFields: headerFields, body: body, deadline: deadline)
            let code = response.head.status.code
            guard configuration.followsRedirects, [301, 302, 303, 307, 308].contains(code),
                let location = response.head.headerFields[.location]
            else { return response }
            if case .stream = body { return response }  // a streamed body cannot be sent again
            guard redirects < configuration.maxRedirects else {
                throw HTTPClientError(.tooManyRedirects, "more than \(configuration.maxRedirects) redirects from \(url)")
            }
            redirects += 1
            _ = try await response.body.collect(upTo: 1024 * 1024)
            url = try url.resolving(location)
            if code == 303 || ((code == 301 || code == 302) && method == .post) {
                method = .get
                body = .none
            }
        }
    }

    private func send(
        _ method: HTTPRequest.Method, _ url: HTTPURL, headerFields: HTTPFields, body: HTTPClientRequestBody,
        deadline: ContinuousClock.Instant
    ) async throws -> HTTPClientResponse {
        if let connection = takeIdle(url.origin) {
            do {
                return try await exchange(on: connection, method, url, headerFields: headerFields, body: body, deadline: deadline)
            } catch let error as StaleConnection {
                // The server closed the pooled connection before it saw this request: retry once.
                _ = error
                connection.stream.close()
            }
        }
        let connection = try await connect(url, deadline: deadline)
        do {
            return try await exchange(on: connection, method, url, headerFields: headerFields, body: body, deadline: deadline)
        } catch is StaleConnection {
            connection.stream.close()
            throw HTTPClientError(.connectionClosed, "\(url.origin) closed the connection without a response")
        }
    }

    private func connect(_ url: HTTPURL, deadline: ContinuousClock.Instant) async throws -> HTTPClientConnection {
        let timeout = min(configuration.connectTimeout, max(.zero, deadline - .now))
        let stream: any ByteStream
        do {
            let factory = configuration.connectionFactory
            let loop = loop
            stream = try await loop.withTimeout(timeout) { try await factory(url, loop) }
        } catch let error as HTTPClientError {
            throw error
        } catch {
            throw Self.clientError(error, origin: url.origin, doing: "connecting")
        }
        return HTTPClientConnection(stream: stream, origin: url.origin, limits: configuration.limits)
    }

    /// Writes the request and reads the response head on `connection`.
    private func exchange(
        on connection: HTTPClientConnection, _ method: HTTPRequest.Method, _ url: HTTPURL, headerFields: HTTPFields,
        body: HTTPClientRequestBody, deadline: ContinuousClock.Instant
    ) async throws -> HTTPClientResponse {
        var writer = HTTPHeadWriter()
        writer.appendRequestLine(method: method.rawValue, target: url.target)
        writer.appendField("Host", url.authority)
        for field in headerFields
        where field.name != .contentLength && field.name != .transferEncoding && field.name.canonicalName != "host" {
            writer.appendField(field.name.rawName, field.value)
        }
        var small = Bytes()
        switch body {
        case .none:
            if method == .post || method == .put || method == .patch { writer.appendField("Content-Length", "0") }
        case .bytes(let bytes):
            writer.append("Content-Length: ")
            writer.appendDecimal(bytes.count)
            writer.append("\r\n")
            if bytes.count <= 4096 { small = bytes }
        case .stream:
            writer.appendField("Transfer-Encoding", "chunked")
        }
        writer.appendEnd()
        let stream = connection.stream
        do {
            try stream.write(writer.bytes(appending: small))
            if case .bytes(let bytes) = body, bytes.count > 4096 { try stream.write(bytes) }
            if case .stream(let produce) = body {
                try await loop.withDeadline(deadline) {
                    try await produce(HTTPClientBodyWriter(stream: stream))
                    try stream.write(HTTPChunkedEncoding.end)
                }
            }
        } catch {
            connection.stream.close()
            throw Self.clientError(error, origin: url.origin, doing: "sending the request")
        }
        connection.parser.nextResponseHasNoBody = method == .head
        var received = false
        while true {
            let event: HTTPParser.Event?
            do {
                event = try connection.parser.next()
            } catch {
                connection.stream.close()
                throw HTTPClientError(.invalidResponse, "invalid response from \(url.origin): \(error.reason)")
            }
            if case .head(let raw) = event, raw.status >= 200 {
                let head = try Self.response(from: raw, origin: url.origin)
                let responseBody = HTTPClientResponseBody(
                    client: self, connection: connection, isKeepAlive: raw.isKeepAlive, deadline: deadline)
                if raw.framing == .none { _ = try await responseBody.next() }
                return HTTPClientResponse(head: head, body: responseBody)
            }
            if event != nil { continue }
            let bytes: Bytes?
            do {
                bytes = try await loop.withDeadline(deadline) { try await stream.read() }
            } catch let error as UVError where !received && error.isConnectionReset {
                throw StaleConnection()
            } catch {
                connection.stream.close()
                throw Self.clientError(error, origin: url.origin, doing: "waiting for the response")
            }
            guard let bytes else {
                if !received { throw StaleConnection() }
                connection.stream.close()
                throw HTTPClientError(.connectionClosed, "\(url.origin) closed the connection inside the response head")
            }
            received = true
            connection.parser.append(bytes)
        }
    }

    private static func response(from raw: HTTPRawHead, origin: String) throws -> HTTPResponse {
        var fields = HTTPFields()
        for field in raw.fields {
            guard let name = HTTPField.Name(field.name.string) else {
                throw HTTPClientError(.invalidResponse, "invalid field name from \(origin)")
            }
            fields.append(field.value.withUnsafeBytes { HTTPField(name: name, lenientValue: $0) })
        }
        return HTTPResponse(status: HTTPResponse.Status(code: raw.status, reasonPhrase: raw.reason.string), headerFields: fields)
    }

    private func takeIdle(_ origin: String) -> HTTPClientConnection? {
        while let connection = idle[origin]?.popLast() {
            if !connection.stream.isClosed { return connection }
        }
        return nil
    }

    func release(_ connection: HTTPClientConnection) {
        guard !connection.stream.isClosed, connection.parser.isIdle else {
            connection.stream.close()
            return
        }
        if idle[connection.origin, default: []].count < configuration.maxIdleConnectionsPerOrigin {
            idle[connection.origin, default: []].append(connection)
        } else {
            connection.stream.close()
        }
    }

    static func clientError(_ error: any Error, origin: String, doing: String) -> HTTPClientError {
        if let error = error as? HTTPClientError { return error }
        if error is TimeoutError { return HTTPClientError(.timedOut, "\(doing) with \(origin) timed out") }
        if let error = error as? UVError, error.isConnectionReset || error.isClosed {
            return HTTPClientError(.connectionClosed, "\(origin) closed the connection while \(doing): \(error)")
        }
        return HTTPClientError(.connectFailed, "\(doing) with \(origin) failed: \(error)")
    }
}

/// A pooled connection the server had closed before the request (nothing came back).
private struct StaleConnection: Error {}

/// A request body for ``HTTPClient/execute(_:_:headerFields:body:)``.
public enum HTTPClientRequestBody {
    /// No body.
    case none
    /// A body known up front, sent with `Content-Length`.
    case bytes(Bytes)
    /// A body written piece by piece, sent chunked.
    case stream((HTTPClientBodyWriter) async throws -> Void)
}

/// Writes a streamed request body; see ``HTTPClientRequestBody/stream(_:)``.
public final class HTTPClientBodyWriter {
    let stream: any ByteStream

    init(stream: any ByteStream) { self.stream = stream }

    /// Writes `bytes` as the next chunk, waiting while the server lags behind.
    public func write(_ bytes: Bytes) async throws {
        guard bytes.count > 0 else { return }
        try stream.write(HTTPChunkedEncoding.chunk(bytes))
        try await stream.drain()
    }
}
