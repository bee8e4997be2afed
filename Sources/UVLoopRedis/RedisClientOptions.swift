import UVLoop

/// Opens the byte stream to a Redis server: plain TCP by default; pass one that wraps the TCP
/// stream in TLS for `rediss://`. Runs on the client's loop.
public typealias RedisConnectionFactory = @Sendable (RedisConfiguration, Loop) async throws -> any ByteStream

/// The plain TCP connection factory (no Nagle delay); refuses `rediss://` URLs.
public let redisTCPConnectionFactory: RedisConnectionFactory = { configuration, loop in
    guard !configuration.usesTLS else {
        throw RedisError.connection("redis \(configuration.endpoint): rediss:// needs a TLS connection factory")
    }
    let stream = try await TCPStream.connect(host: configuration.host, port: configuration.port, on: loop)
    try stream.setNoDelay(true)
    return stream
}

/// How long to wait between reconnection attempts: `initialDelay`, doubling up to `maxDelay`,
/// each multiplied by a random factor in 1 ± `jitter` so that many clients do not retry in step.
public struct RedisReconnectPolicy: Sendable, Hashable {
    /// The wait after the first failed attempt (default 0.1 s). The first attempt is immediate.
    public var initialDelay: Duration
    /// The longest wait (default 5 s).
    public var maxDelay: Duration
    /// The relative spread of each wait (default 0.2, so ±20%).
    public var jitter: Double

    /// Creates a policy; the defaults are 0.1 s doubling to 5 s, ±20%.
    public init(initialDelay: Duration = .milliseconds(100), maxDelay: Duration = .seconds(5), jitter: Double = 0.2) {
        self.initialDelay = initialDelay
        self.maxDelay = maxDelay
        self.jitter = jitter
    }

    /// The wait before attempt `failures + 1`, before jitter.
    public func delay(afterFailures failures: Int) -> Duration {
        var delay = initialDelay
        for _ in 1..<max(failures, 1) where delay < maxDelay { delay *= 2 }
        return min(delay, maxDelay)
    }

    /// `delay(afterFailures:)` with jitter applied.
    func jitteredDelay(afterFailures failures: Int) -> Duration {
        let factor = jitter > 0 ? Double.random(in: (1 - jitter)...(1 + jitter)) : 1
        return delay(afterFailures: failures) * factor
    }
}

/// The limits and timings of a ``RedisClient``; each has the default a production client would
/// choose.
public struct RedisClientOptions: Sendable {
    /// The longest wait for a command's reply, including any wait for a reconnection (default
    /// 5 s); `nil` waits forever. Blocking commands add their own block time to it.
    public var commandTimeout: Duration?
    /// The longest wait to connect, AUTH and SELECT (default 5 s).
    public var connectTimeout: Duration
    /// When to try again after the connection is lost.
    public var reconnect: RedisReconnectPolicy
    /// Bounds on each reply (string length, array length, nesting), against a hostile server.
    public var decoderLimits: RESPDecoder.Limits
    /// Commands queued for writing, in bytes, past which new commands wait (within their time
    /// limit) until the queue drains — against a server that stops reading (default 1 MiB).
    public var maxQueuedWriteBytes: Int
    /// Messages a subscription holds for a slow consumer before it stops reading from the
    /// server (default 1024); the server then buffers, and disconnects it past its own
    /// `client-output-buffer-limit pubsub`.
    public var subscriptionBufferSize: Int
    /// How often an idle subscription PINGs the server to find a dead connection (default
    /// 30 s); `nil` never.
    public var subscriptionPingInterval: Duration?

    /// Creates options with the defaults.
    public init(
        commandTimeout: Duration? = .seconds(5),
        connectTimeout: Duration = .seconds(5),
        reconnect: RedisReconnectPolicy = RedisReconnectPolicy(),
        decoderLimits: RESPDecoder.Limits = RESPDecoder.Limits(),
        maxQueuedWriteBytes: Int = 1024 * 1024,
        subscriptionBufferSize: Int = 1024,
        subscriptionPingInterval: Duration? = .seconds(30)
    ) {
        self.commandTimeout = commandTimeout
        self.connectTimeout = connectTimeout
        self.reconnect = reconnect
        self.decoderLimits = decoderLimits
        self.maxQueuedWriteBytes = maxQueuedWriteBytes
        self.subscriptionBufferSize = subscriptionBufferSize
        self.subscriptionPingInterval = subscriptionPingInterval
    }
}

/// `0.4 s`, `5 s`, `0.25 s`: a duration for messages, to `decimals` places, zeros trimmed.
func formatSeconds(_ duration: Duration, decimals: Int = 3) -> String {
    let (seconds, attoseconds) = duration.components
    var scale: Int64 = 1
    for _ in 0..<decimals { scale *= 10 }
    let unit = 1_000_000_000_000_000_000 / scale
    let fraction = (attoseconds + unit / 2) / unit
    var whole = seconds
    var part = fraction
    if part >= scale {
        whole += 1
        part -= scale
    }
    guard part > 0 else { return "\(whole) s" }
    var digits = String(part)
    digits = String(repeating: "0", count: decimals - digits.count) + digits
    while digits.hasSuffix("0") { digits.removeLast() }
    return "\(whole).\(digits) s"
}
