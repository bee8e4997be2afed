import UVLoop

/// A message received on a subscription.
public struct RedisMessage: Sendable, Hashable {
    /// The channel it was published to.
    public let channel: Bytes
    /// What was published.
    public let payload: Bytes
    /// The pattern that matched the channel, for pattern subscriptions; `nil` otherwise.
    public let pattern: Bytes?

    /// Creates a message.
    public init(channel: Bytes, payload: Bytes, pattern: Bytes? = nil) {
        self.channel = channel
        self.payload = payload
        self.pattern = pattern
    }
}
