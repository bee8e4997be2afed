import Logging
import UVLoop

/// A Redis client on one loop: commands are pipelined on one connection (any number in
/// flight, replies matched in order), and a lost connection is reopened with backoff.
///
/// ```swift
/// try Loop.run { loop in
///     let redis = try await RedisClient.connect(url: "redis://127.0.0.1:6379/0", on: loop)
///     defer { redis.close() }
///     try await redis.set("greeting", "hello")
///     print(try await redis.get("greeting")?.string ?? "(nil)")   // hello
///     let claimed = try await redis.set("name:lobby:ada", "node-1", onlyIfNotExists: true, expiresIn: .seconds(15))
/// }
/// ```
///
/// Like a stream, a client belongs to its loop: use it from that loop's tasks only. Many tasks
/// may send at once. Each command has a time limit (``RedisClientOptions/commandTimeout``,
/// or the `timeout` argument); a task that times out or is cancelled stops waiting, and its
/// reply is still consumed in order when it comes. While the connection is being reopened,
/// commands wait for it within their time limit. Commands in flight when it is lost fail with
/// ``RedisError/connection(_:)`` and are not retried: they may or may not have run.
///
/// Errors are ``RedisError``s: `.server("WRONGTYPE ...")` for an error reply, `.connection`,
/// `.timeout`, `.protocolViolation` (the connection is then closed and reopened), `.closed`.
public final class RedisClient {
    /// The loop the client belongs to.
    public let loop: Loop
    /// The server and credentials.
    public var configuration: RedisConfiguration { connector.configuration }
    /// The limits and timings.
    public var options: RedisClientOptions { connector.options }
    let connector: RedisConnector
    /// The time limits of the commands in flight.
    private let deadlines: ReplyDeadlines
    /// A second client for blocking commands (XREAD BLOCK), opened on first use.
    private var blockingClient: RedisClient?

    private init(connector: RedisConnector) {
        self.loop = connector.loop
        self.connector = connector
        deadlines = ReplyDeadlines(loop: connector.loop, endpoint: connector.endpoint)
    }

    /// Connects to the server at `url` (`redis://[[user]:password@]host[:port][/db]`), sending
    /// AUTH and SELECT as the URL says.
    ///
    /// - Parameters:
    ///   - options: timeouts, reconnection backoff, reply limits.
    ///   - logger: where connection losses and recoveries are logged (one warning per outage).
    ///   - connectionFactory: opens the byte stream; the default is plain TCP.
    /// - Throws: ``RedisError/invalidURL(_:)``, or ``RedisError/connection(_:)`` if the first
    ///   connection fails (`redis 127.0.0.1:6379: connection refused`); it is not retried.
    public static func connect(
        url: String,
        options: RedisClientOptions = RedisClientOptions(),
        logger: Logger = Logger(label: "redis"),
        connectionFactory: @escaping RedisConnectionFactory = redisTCPConnectionFactory,
        on loop: Loop
    ) async throws -> RedisClient {
        try await connect(
            configuration: try RedisConfiguration(url: url), options: options, logger: logger, connectionFactory: connectionFactory,
            on: loop)
    }

    /// Connects to the server `configuration` describes; see ``connect(url:options:logger:connectionFactory:on:)``.
    public static func connect(
        configuration: RedisConfiguration,
        options: RedisClientOptions = RedisClientOptions(),
        logger: Logger = Logger(label: "redis"),
        connectionFactory: @escaping RedisConnectionFactory = redisTCPConnectionFactory,
        on loop: Loop
    ) async throws -> RedisClient {
        let connector = RedisConnector(
            configuration: configuration, options: options, factory: connectionFactory, logger: logger, loop: loop)
        try await connector.connect()
        return RedisClient(connector: connector)
    }

    /// Sends a command and returns its reply.
    ///
    /// ```swift
    /// let reply = try await redis.send(["LPUSH", "queue", Bytes("job")])   // (integer) 1
    /// ```
    ///
    /// - Parameter timeout: the time limit; `nil` uses ``RedisClientOptions/commandTimeout``.
    /// - Throws: ``RedisError/server(_:)`` for an error reply, ``RedisError/timeout(_:)``,
    ///   ``RedisError/connection(_:)``, ``RedisError/closed``, or `CancellationError`.
    @discardableResult
    public func send(_ command: [Bytes], timeout: Duration? = nil) async throws -> RESPValue {
        try await execute(command, timeout: timeout ?? options.commandTimeout)
    }

    /// Sends a command given as strings: `try await redis.send("INCR", "visits")`.
    @discardableResult
    public func send(_ command: String...) async throws -> RESPValue {
        try await send(command.map { Bytes($0) })
    }

    /// Sends a command whose arguments are values: bulk strings, simple strings and integers
    /// (as decimal text). Throws ``RedisError/protocolViolation(_:)`` for any other value.
    @discardableResult
    public func send(_ command: [RESPValue], timeout: Duration? = nil) async throws -> RESPValue {
        var arguments: [Bytes] = []
        arguments.reserveCapacity(command.count)
        for value in command {
            switch value {
            case .bulkString(.some(let bytes)), .simpleString(let bytes): arguments.append(bytes)
            case .integer(let number): arguments.append(Bytes(String(number)))
            default: throw RedisError.protocolViolation("a command argument must be a string or an integer, not \(value)")
            }
        }
        return try await send(arguments, timeout: timeout)
    }

    /// Closes the connection (and the blocking one) and stops reconnecting. Waiting commands
    /// fail with ``RedisError/closed``. Calling it twice is harmless.
    public func close() {
        connector.close()
        deadlines.close()
        blockingClient?.close()
    }

    /// True once ``close()`` was called.
    public var isClosed: Bool { connector.isClosed }

    /// True while a connection is open and usable (false while reconnecting).
    public var isConnected: Bool { connector.connection?.failure == nil && connector.connection != nil }

    /// Commands sent whose reply has not arrived (pipelined, on the current connection).
    public var inFlightCount: Int { connector.connection?.inFlightCount ?? 0 }

    /// A client with the same server, options and logger, on a connection of its own: for
    /// blocking commands and for work that must not queue behind this client's.
    public func duplicate() async throws -> RedisClient {
        let connector = RedisConnector(
            configuration: configuration, options: options, factory: self.connector.factory, logger: self.connector.logger, loop: loop)
        try await connector.connect()
        return RedisClient(connector: connector)
    }

    /// The client that runs this client's blocking commands, opened on first use.
    func blocking() async throws -> RedisClient {
        if let blockingClient, !blockingClient.isClosed { return blockingClient }
        let client = try await duplicate()
        if isClosed {
            client.close()
            throw RedisError.closed
        }
        // Two blocking reads may have opened one each meanwhile: keep the first, close the other.
        if let blockingClient, !blockingClient.isClosed {
            client.close()
            return blockingClient
        }
        blockingClient = client
        return client
    }

    /// Sends `command` with `timeout` (`nil`: no limit); an error reply throws.
    func execute(_ command: [Bytes], timeout: Duration?) async throws -> RESPValue {
        let reply = try await executeAllowingErrorReply(command, timeout: timeout)
        if case .error(let message) = reply { throw RedisError.server(message.string) }
        return reply
    }

    private func executeAllowingErrorReply(_ command: [Bytes], timeout: Duration?) async throws -> RESPValue {
        let chunks = RESPEncoder.command(command)
        guard let timeout else { return try await roundTrip(chunks) }
        let start = ContinuousClock.now
        let name = command.first ?? Bytes()
        let connection = try await usableConnection(for: name, timeout: timeout)
        let reply = try connection.enqueue(chunks)
        deadlines.add(reply, command: name, timeout: timeout, start: start)
        return try await reply.wait()
    }

    /// Sends `commands` back to back on the connection, without waiting for each reply before
    /// the next is written, and returns their replies in order: one round trip for them all.
    /// An error reply throws ``RedisError/server(_:)`` (the first, once all replies arrived);
    /// the commands before and after it still ran.
    ///
    /// ```swift
    /// let replies = try await redis.send(pipeline: [["INCR", "a"], ["INCR", "b"]])   // [(integer) 1, (integer) 1]
    /// ```
    @discardableResult
    public func send(pipeline commands: [[Bytes]], timeout: Duration? = nil) async throws -> [RESPValue] {
        guard let first = commands.first else { return [] }
        let timeout = timeout ?? options.commandTimeout
        let start = ContinuousClock.now
        let connection: RedisConnection
        if let timeout {
            connection = try await usableConnection(for: first.first ?? Bytes(), timeout: timeout)
        } else {
            connection = try await connector.ready()
            if connection.stream.bufferedWriteCount > options.maxQueuedWriteBytes { try await connection.drain() }
        }
        var pending: [PendingReply] = []
        pending.reserveCapacity(commands.count)
        for command in commands {
            let reply = try connection.enqueue(RESPEncoder.command(command))
            if let timeout { deadlines.add(reply, command: command.first ?? Bytes(), timeout: timeout, start: start) }
            pending.append(reply)
        }
        var replies: [RESPValue] = []
        replies.reserveCapacity(pending.count)
        for reply in pending { replies.append(try await reply.wait()) }
        for reply in replies {
            if case .error(let message) = reply { throw RedisError.server(message.string) }
        }
        return replies
    }

    /// The connection to write `name` on within `timeout`. The common case — connected, write
    /// queue not over its mark — returns at once; waiting for a reconnection or for the write
    /// queue to drain is rare and bounded by `withTimeout`.
    private func usableConnection(for name: Bytes, timeout: Duration) async throws -> RedisConnection {
        if let connection = connector.connection, connection.failure == nil,
            connection.stream.bufferedWriteCount <= options.maxQueuedWriteBytes
        {
            return connection
        }
        do {
            return try await loop.withTimeout(timeout) {
                let ready = try await connector.ready()
                if ready.stream.bufferedWriteCount > options.maxQueuedWriteBytes { try await ready.drain() }
                return ready
            }
        } catch is TimeoutError {
            let text = name.string.uppercased()
            if connector.connection == nil, let lastFailure = connector.lastFailure {
                throw RedisError.connection(
                    "redis \(connector.endpoint): \(lastFailure); \(text) not sent within \(formatSeconds(timeout))")
            }
            throw RedisError.timeout("redis \(connector.endpoint): \(text) timed out after \(formatSeconds(timeout))")
        }
    }

    private func roundTrip(_ chunks: [Bytes]) async throws -> RESPValue {
        let connection = try await connector.ready()
        if connection.stream.bufferedWriteCount > options.maxQueuedWriteBytes { try await connection.drain() }
        let reply = try connection.enqueue(chunks)
        return try await reply.wait()
    }
}
