/// Opens the byte stream for a request's origin: TCP for `http`; give one that wraps TCP in
/// TLS to serve `https`.
///
/// ```swift
/// var configuration = HTTPClientConfiguration()
/// configuration.connectionFactory = { url, loop in
///     let tcp = try await TCPStream.connect(host: url.host, port: url.port, on: loop)
///     return url.scheme == "https" ? try await TLSStream(wrapping: tcp, serverName: url.host) : tcp
/// }
/// ```
public typealias HTTPConnectionFactory = (HTTPURL, Loop) async throws -> any ByteStream

/// The timeouts, pool size and redirect policy of an ``HTTPClient``.
public struct HTTPClientConfiguration {
    /// How long a connect may take. Default 10 s.
    public var connectTimeout: Duration = .seconds(10)
    /// How long a whole request may take, from connect to the last byte of its response body.
    /// Default 60 s.
    public var requestTimeout: Duration = .seconds(60)
    /// Whether redirects (301, 302, 303, 307, 308) are followed. Default false.
    public var followsRedirects = false
    /// The most redirects followed for one request. Default 5.
    public var maxRedirects = 5
    /// The most idle connections kept per origin. Default 8.
    public var maxIdleConnectionsPerOrigin = 8
    /// Limits on responses: head size and fields, and the body (default 1 GiB).
    public var limits = HTTPParserLimits(maxBodyBytes: 1 << 30)
    /// Opens connections; the default makes TCP connections for `http` and refuses `https`.
    public var connectionFactory: HTTPConnectionFactory = { url, loop in
        guard url.scheme == "http" else {
            throw HTTPClientError(
                .unsupportedScheme, "\(url.scheme) needs a TLS connection factory (HTTPClientConfiguration.connectionFactory)")
        }
        return try await TCPStream.connect(host: url.host, port: url.port, on: loop)
    }

    /// The defaults, as documented on each property.
    public init() {}
}
