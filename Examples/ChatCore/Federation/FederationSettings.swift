import Glibc

/// How a chat server joins a federation: one room shared by many processes through Redis.
///
/// ```swift
/// var configuration = ChatConfiguration()
/// configuration.federation = FederationSettings(redisURL: "redis://127.0.0.1:6379")
/// ```
public struct FederationSettings: Sendable {
    /// The Redis server all processes share (`redis://[[user]:password@]host[:port][/db]`).
    public var redisURL: String
    /// The room's name: processes with the same name and Redis share one room.
    public var room: String
    /// This process's name in the federation, unique among the room's processes.
    public var node: String
    /// The room's stream is trimmed to about this many events (`XADD MAXLEN ~`): enough for a
    /// process to catch up after an outage of its Redis connection.
    public var streamLength = 10_000
    /// Events of this process's participants held while Redis is unreachable; past it the
    /// oldest are dropped (and that is logged).
    public var outboxLimit = 10_000
    /// How often the process refreshes its heartbeat and names and sweeps dead processes.
    public var heartbeatPeriod = Duration.seconds(2)
    /// How long a process's heartbeat lives: one that stops refreshing it (SIGKILL) has its
    /// participants announced as left within this plus ``heartbeatPeriod``.
    public var nodeTTL = Duration.seconds(10)
    /// How long a name claim lives without being refreshed.
    public var nameTTL = Duration.seconds(30)

    /// Settings for `room` through the Redis at `redisURL`; `node` defaults to `hostname-pid`.
    public init(redisURL: String, room: String = "chat", node: String? = nil) {
        self.redisURL = redisURL
        self.room = room
        self.node = node ?? "\(FederationSettings.hostName())-\(getpid())"
    }

    /// This machine's host name, or `localhost` if it cannot be read.
    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
