import Logging
import UVLoop

/// Pub/sub on a connection of its own: the messages of the subscribed channels and patterns, as
/// an async sequence.
///
/// ```swift
/// let subscription = try await redis.subscribe(to: ["chat:lobby"])
/// loop.spawn {
///     for try await message in subscription { print(message.channel, message.payload) }
/// }
/// try await redis.publish("hello", to: "chat:lobby")
/// subscription.close()
/// ```
///
/// ``RedisClient/subscribe(to:patterns:)`` returns once the server confirmed the
/// subscriptions, so anything published after it is received. The subscription PINGs the server
/// when idle (``RedisClientOptions/subscriptionPingInterval``) and, like the client, reconnects
/// with backoff after losing its connection, subscribing again to every channel and pattern;
/// messages published while it was disconnected are lost (pub/sub delivers at most once — use
/// a stream where that matters). A slow consumer is held to
/// ``RedisClientOptions/subscriptionBufferSize`` messages, after which reading from the server
/// stops. Iteration ends after ``close()``. Belongs to its loop, like the client.
public final class RedisSubscription: AsyncSequence {
    public typealias Element = RedisMessage
    public typealias Failure = any Error

    private let connector: RedisConnector
    private let messages: Channel<RedisMessage>
    /// The channels subscribed to, in order.
    public private(set) var channels: [Bytes] = []
    /// The patterns subscribed to, in order.
    public private(set) var patterns: [Bytes] = []
    private var keepAlive: SpawnedTask?

    init(connector: RedisConnector) {
        self.connector = connector
        messages = Channel(capacity: Swift.max(connector.options.subscriptionBufferSize, 1), on: connector.loop)
        connector.configure = { [weak self] connection in
            connection.onPush = { value in await self?.push(value) ?? false }
        }
        connector.prepare = { [weak self] connection in try await self?.subscribeAll(on: connection) }
    }

    /// Starts the keep-alive PINGs.
    func start() {
        guard let interval = connector.options.subscriptionPingInterval else { return }
        keepAlive = connector.loop.spawn { [weak self] in
            while true {
                try await self?.connector.loop.sleep(for: interval)
                guard let self, !connector.isClosed else { return }
                await pingOrDrop()
            }
        }
    }

    /// Subscribes to more channels and patterns; returns once the server confirmed them.
    public func subscribe(to channels: [String], patterns: [String] = []) async throws {
        let newChannels = channels.map { Bytes($0) }.filter { !self.channels.contains($0) }
        let newPatterns = patterns.map { Bytes($0) }.filter { !self.patterns.contains($0) }
        self.channels += newChannels
        self.patterns += newPatterns
        try await change("SUBSCRIBE", newChannels, "PSUBSCRIBE", newPatterns)
    }

    /// Unsubscribes from channels and patterns; returns once the server confirmed it.
    public func unsubscribe(from channels: [String], patterns: [String] = []) async throws {
        let oldChannels = channels.map { Bytes($0) }
        let oldPatterns = patterns.map { Bytes($0) }
        self.channels.removeAll { oldChannels.contains($0) }
        self.patterns.removeAll { oldPatterns.contains($0) }
        try await change("UNSUBSCRIBE", oldChannels, "PUNSUBSCRIBE", oldPatterns)
    }

    /// Round trip in subscribed mode (`PING`, answered `["pong", ""]`); returns once it came back.
    public func ping() async throws {
        let connection = try await connector.ready()
        try await confirm(on: connection)
    }

    /// Closes the connection; iteration ends once buffered messages are taken. Calling it
    /// twice is harmless.
    public func close() {
        keepAlive?.cancel()
        connector.close()
        messages.close()
    }

    /// True once ``close()`` was called.
    public var isClosed: Bool { connector.isClosed }

    /// The messages, in the order the server sent them.
    public func makeAsyncIterator() -> Channel<RedisMessage>.Iterator { messages.makeAsyncIterator() }

    private func change(_ verb: Bytes, _ names: [Bytes], _ patternVerb: Bytes, _ patternNames: [Bytes]) async throws {
        guard !names.isEmpty || !patternNames.isEmpty else { return }
        try await connector.loop.withTimeout(connector.options.commandTimeout ?? .seconds(3600)) {
            let connection = try await connector.ready()
            if !names.isEmpty { try connection.write(RESPEncoder.command([verb] + names)) }
            if !patternNames.isEmpty { try connection.write(RESPEncoder.command([patternVerb] + patternNames)) }
            try await confirm(on: connection)
        }
    }

    /// Sends PING and waits for its answer: every confirmation sent before it has then arrived.
    private func confirm(on connection: RedisConnection) async throws {
        let reply = try await connection.enqueue(RESPEncoder.command(["PING"])).wait()
        if case .error(let message) = reply { throw RedisError.server(message.string) }
    }

    private func subscribeAll(on connection: RedisConnection) async throws {
        guard !channels.isEmpty || !patterns.isEmpty else { return }
        if !channels.isEmpty { try connection.write(RESPEncoder.command(["SUBSCRIBE"] + channels)) }
        if !patterns.isEmpty { try connection.write(RESPEncoder.command(["PSUBSCRIBE"] + patterns)) }
        try await confirm(on: connection)
    }

    /// A keep-alive PING; a connection that does not answer in time is dropped and reopened.
    private func pingOrDrop() async {
        guard let connection = connector.connection, connection.failure == nil else { return }
        let limit = connector.options.commandTimeout ?? .seconds(30)
        do {
            try await connector.loop.withTimeout(limit) { try await confirm(on: connection) }
        } catch is TimeoutError {
            connection.fail(.timeout("redis \(connector.endpoint): no answer to a subscription PING within \(formatSeconds(limit))"))
        } catch {
            // Lost or closed meanwhile: the connector reconnects (or is closed).
        }
    }

    /// Takes pushes: messages go to the consumer, confirmations are dropped, anything else is
    /// a command's reply.
    private func push(_ value: RESPValue) async -> Bool {
        guard let elements = value.array, let kind = elements.first?.bytes else { return false }
        switch (kind, elements.count) {
        case ("message", 3):
            guard let channel = elements[1].bytes, let payload = elements[2].bytes else { return false }
            try? await messages.send(RedisMessage(channel: channel, payload: payload))
            return true
        case ("pmessage", 4):
            guard let pattern = elements[1].bytes, let channel = elements[2].bytes, let payload = elements[3].bytes else { return false }
            try? await messages.send(RedisMessage(channel: channel, payload: payload, pattern: pattern))
            return true
        case ("subscribe", 3), ("unsubscribe", 3), ("psubscribe", 3), ("punsubscribe", 3):
            return true
        default:
            return false
        }
    }
}

extension RedisClient {
    /// Subscribes to `channels` and `patterns` on a new connection of its own (same server,
    /// options and logger); returns once the server confirmed them. See ``RedisSubscription``.
    public func subscribe(to channels: [String], patterns: [String] = []) async throws -> RedisSubscription {
        let connector = RedisConnector(
            configuration: configuration, options: options, factory: connector.factory, logger: connector.logger, loop: loop)
        let subscription = RedisSubscription(connector: connector)
        subscription.start()
        do {
            try await connector.connect()
            try await subscription.subscribe(to: channels, patterns: patterns)
        } catch {
            subscription.close()
            throw error
        }
        return subscription
    }
}
