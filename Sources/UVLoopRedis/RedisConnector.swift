import Logging
import UVLoop

/// Keeps one connection to a server open: opens it (connect, AUTH, SELECT), hands it out while
/// it works, and after it is lost opens a new one with backoff, logging once per outage.
/// Shared by ``RedisClient`` and ``RedisSubscription``. Loop thread only.
final class RedisConnector {
    let loop: Loop
    let configuration: RedisConfiguration
    let options: RedisClientOptions
    let factory: RedisConnectionFactory
    let logger: Logger
    /// The working connection; `nil` while (re)connecting.
    private(set) var connection: RedisConnection?
    /// Set while ``connection`` is usable or the connector is closed.
    private let available: Event
    private var reconnecting: SpawnedTask?
    private(set) var isClosed = false
    /// Why the last attempt failed, while disconnected: `connection refused`.
    private(set) var lastFailure: String?
    /// Called on each new connection before its reader starts (subscriptions set `onPush`).
    var configure: ((RedisConnection) -> Void)?
    /// Run on each new connection after AUTH and SELECT, before it is handed out
    /// (subscriptions subscribe again); a failure makes the attempt fail.
    var prepare: ((RedisConnection) async throws -> Void)?

    init(
        configuration: RedisConfiguration, options: RedisClientOptions, factory: @escaping RedisConnectionFactory, logger: Logger,
        loop: Loop
    ) {
        self.loop = loop
        self.configuration = configuration
        self.options = options
        self.factory = factory
        self.logger = logger
        available = Event(on: loop)
    }

    var endpoint: String { configuration.endpoint }

    /// Opens the first connection; throws ``RedisError/connection(_:)`` if it fails (no retry).
    func connect() async throws {
        install(try await open())
    }

    /// The working connection, waiting while a reconnection is under way.
    /// Throws ``RedisError/closed`` once closed.
    func ready() async throws -> RedisConnection {
        while true {
            if isClosed { throw RedisError.closed }
            if let connection, connection.failure == nil { return connection }
            try await available.wait()
        }
    }

    /// Closes the connection and stops reconnecting; waiting and in-flight commands fail with
    /// ``RedisError/closed``.
    func close() {
        guard !isClosed else { return }
        isClosed = true
        reconnecting?.cancel()
        connection?.close()
        connection = nil
        available.set()
    }

    /// Drops the current connection (after a timeout that leaves it in doubt) and reconnects.
    func abandon(_ connection: RedisConnection, because error: RedisError) {
        connection.fail(error)
    }

    private func install(_ connection: RedisConnection) {
        self.connection = connection
        lastFailure = nil
        connection.onFailure = { [weak self, unowned connection] error in self?.lost(connection, error) }
        available.set()
    }

    private func lost(_ lostConnection: RedisConnection, _ error: RedisError) {
        guard lostConnection === connection, !isClosed else { return }
        connection = nil
        available.clear()
        lastFailure = RedisConnection.reason(error)
        reconnecting = loop.spawn { [self] in await reconnect(after: error) }
    }

    /// Tries at once, then after each failure waits by the reconnect policy. Logs a warning at
    /// the first failure of an outage and a notice when it ends; other attempts at debug level.
    private func reconnect(after loss: RedisError) async {
        let started = ContinuousClock.now
        var failures = 0
        while !isClosed && !Task.isCancelled {
            do {
                let connection = try await open()
                guard !isClosed else {
                    connection.close()
                    return
                }
                if failures == 0 {
                    logger.notice("redis \(endpoint): \(withoutEndpoint(loss.description)); reconnected")
                } else {
                    let outage = formatSeconds(ContinuousClock.now - started, decimals: 1)
                    logger.notice("redis \(endpoint): reconnected after \(outage) (\(failures) failed attempts)")
                }
                install(connection)
                return
            } catch {
                failures += 1
                let reason = withoutEndpoint(RedisConnection.reason(error))
                lastFailure = reason
                let delay = options.reconnect.jitteredDelay(afterFailures: failures)
                let message: Logger.Message = "redis \(endpoint): \(reason); retrying in \(formatSeconds(delay, decimals: 2))"
                if failures == 1 { logger.warning(message) } else { logger.debug(message) }
                do { try await loop.sleep(for: delay) } catch { return }
            }
        }
    }

    /// `connection refused` out of `redis 127.0.0.1:6379: connection refused`.
    private func withoutEndpoint(_ message: String) -> String {
        let prefix = "redis \(endpoint): "
        return message.hasPrefix(prefix) ? String(message.dropFirst(prefix.count)) : message
    }

    /// Connects, authenticates and selects the database, all within the connect timeout.
    func open() async throws -> RedisConnection {
        let stream: any ByteStream
        do {
            stream = try await loop.withTimeout(options.connectTimeout) { try await factory(configuration, loop) }
        } catch let error as RedisError {
            throw error
        } catch is TimeoutError {
            throw RedisError.connection("redis \(endpoint): no connection within \(formatSeconds(options.connectTimeout))")
        } catch {
            throw RedisError.connection("redis \(endpoint): \(RedisConnection.reason(error))")
        }
        let connection = RedisConnection(stream: stream, endpoint: endpoint, limits: options.decoderLimits)
        configure?(connection)
        connection.start()
        do {
            try await loop.withTimeout(options.connectTimeout) { try await handshake(connection) }
        } catch {
            connection.close()
            switch error {
            case let error as RedisError: throw error
            case is TimeoutError:
                throw RedisError.connection("redis \(endpoint): no answer to the handshake within \(formatSeconds(options.connectTimeout))")
            default: throw RedisError.connection("redis \(endpoint): \(RedisConnection.reason(error))")
            }
        }
        return connection
    }

    private func handshake(_ connection: RedisConnection) async throws {
        var steps: [(String, PendingReply)] = []
        if let password = configuration.password {
            let command: [Bytes] = ["AUTH"] + (configuration.username.map { [Bytes($0)] } ?? []) + [Bytes(password)]
            steps.append(("AUTH", try connection.enqueue(RESPEncoder.command(command))))
        }
        if configuration.database != 0 {
            steps.append(("SELECT", try connection.enqueue(RESPEncoder.command(["SELECT", Bytes(String(configuration.database))]))))
        }
        for (name, reply) in steps {
            if case .error(let message) = try await reply.wait() {
                throw RedisError.connection("redis \(endpoint): \(name) failed: \(message.string)")
            }
        }
        try await prepare?(connection)
    }
}
