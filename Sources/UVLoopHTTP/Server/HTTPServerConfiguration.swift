/// The limits and timeouts of an ``HTTPServer``, each with the default a production server
/// would choose.
public struct HTTPServerConfiguration: Sendable {
    /// Header size, field count, target length and body size (431, 431, 414, 413).
    public var limits: HTTPParserLimits
    /// How long a client may take to send a whole request head, from its first byte or from
    /// the connection's start (slowloris); the connection is then closed. Default 10 s.
    public var headerTimeout: Duration
    /// How long a kept-alive connection may wait for its next request. Default 60 s.
    public var idleTimeout: Duration
    /// How long a request body may stall between two reads, and a response may stall on a
    /// peer that does not read. Default 30 s.
    public var bodyTimeout: Duration
    /// How long ``HTTPServer/shutdown()`` lets in-flight requests run before it closes their
    /// connections. Default 10 s.
    public var shutdownGracePeriod: Duration
    /// A `Server` field for every response, if set.
    public var serverName: String?

    /// A configuration with the given values (each defaults as documented on its property).
    public init(
        limits: HTTPParserLimits = HTTPParserLimits(),
        headerTimeout: Duration = .seconds(10),
        idleTimeout: Duration = .seconds(60),
        bodyTimeout: Duration = .seconds(30),
        shutdownGracePeriod: Duration = .seconds(10),
        serverName: String? = nil
    ) {
        self.limits = limits
        self.headerTimeout = headerTimeout
        self.idleTimeout = idleTimeout
        self.bodyTimeout = bodyTimeout
        self.shutdownGracePeriod = shutdownGracePeriod
        self.serverName = serverName
    }
}
