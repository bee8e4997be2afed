/// The settings of a chat server, with the defaults `ChatExample --help` documents.
///
/// The defaults depend on the mode: ``plain(_:)`` keeps the seed's protocol, with a line cap
/// large enough for benchmarks.
public struct ChatConfiguration: Sendable {
    /// The address to listen on.
    public var host = "0.0.0.0"
    /// The TCP port (0 picks a free one).
    public var port = 3000
    /// A TLS listener beside the plaintext one, if any; its participants share the room.
    public var tls: ChatTLSSettings?
    /// The port of the web listener, if any: the chat page at `/`, the room over WebSocket at
    /// `/chat`, `/health` and `/metrics`.
    public var httpPort: Int?
    /// The seed's protocol: lines relayed byte for byte; no welcome, names, commands or flood limit.
    public var isPlain = false
    /// In plain mode, print every chat line to the console as `Chat: ...`.
    public var isVerbose = false
    /// The longest line accepted, in bytes without its terminator; longer lines are refused.
    public var maxLineLength = ChatConfiguration.defaultMaxLineLength
    /// The most bytes one participant's outbound queue may hold beyond the kernel's socket
    /// buffer; a participant over it is not reading and is disconnected.
    public var maxQueuedBytes = ChatConfiguration.defaultMaxQueuedBytes
    /// Lines a second a participant may send on average; `nil` turns the flood limit off.
    /// Plain mode has none.
    public var floodRate: Double? = ChatConfiguration.defaultFloodRate
    /// Lines a participant may send at once before the flood limit applies.
    public var floodBurst = ChatConfiguration.defaultFloodBurst
    /// A participant who sends no line for this long is disconnected; `nil` (the default) never.
    public var idleTimeout: Duration?
    /// The most participants at once; `nil` means what the open-file limit allows.
    public var maxParticipants: Int?
    /// Up to this many participants, each join and departure is announced to the others; a
    /// larger room announces one summary line per ``summaryInterval`` instead.
    public var largeRoomThreshold = ChatConfiguration.defaultLargeRoomThreshold
    /// How often a large room announces its summary of joins and departures.
    public var summaryInterval = Duration.seconds(1)
    /// How long shutdown waits for queued lines to be written before closing.
    public var shutdownTimeout = Duration.seconds(3)
    /// The largest WebSocket message a browser may send, in bytes; a larger one closes its
    /// connection with 1009. `nil` (the default) means ``webSocketMaxMessageSize``: a
    /// message over the line cap but within this bound is refused like a long line.
    public var maxMessageSize: Int?
    /// Browsers may agree permessage-deflate (RFC 7692) on `/chat`; off by default: each
    /// compressing participant costs the server a zlib state (PERFORMANCE.md, WebSocket).
    public var webSocketCompression = false
    /// Share the port with other processes (`SO_REUSEPORT`): the kernel spreads connections.
    public var reusePort = false
    /// One room across many processes through Redis, if set (see ``Federation``).
    public var federation: FederationSettings?
    /// How long a departing participant's last line (a goodbye, an idle notice) gets to be written.
    public var farewellTimeout = Duration.seconds(2)

    /// The line cap in chat mode: 4 KiB.
    public static let defaultMaxLineLength = 4096
    /// The line cap in plain mode: 64 KiB, the seed's, so benchmarks are unaffected.
    public static let plainMaxLineLength = 64 * 1024
    /// The outbound queue bound: 1 MiB (16 of the longest plain lines, 256 of the longest chat lines).
    public static let defaultMaxQueuedBytes = 1024 * 1024
    /// The flood limit's rate: 5 lines a second.
    public static let defaultFloodRate = 5.0
    /// The flood limit's burst: 10 lines.
    public static let defaultFloodBurst = 10
    /// The large-room threshold: 100 participants. Up to it, a join storm costs at most
    /// 100 × 100 notices; beyond it, one line per participant per second.
    public static let defaultLargeRoomThreshold = 100
    /// The most names `/who` lists: the first 50 to arrive, then how many more there are.
    public static let maxNamesListed = 50
    /// File descriptors kept back from the participant cap for the server's own use (standard
    /// streams, the listener, libuv's internal handles, connections being refused or closed).
    public static let reservedFileDescriptors = 32

    /// The chat-mode defaults.
    public init() {}

    /// The defaults of plain mode (`plain` true) or chat mode.
    public static func plain(_ plain: Bool) -> ChatConfiguration {
        var configuration = ChatConfiguration()
        if plain {
            configuration.isPlain = true
            configuration.maxLineLength = plainMaxLineLength
            configuration.floodRate = nil
        }
        return configuration
    }

    /// The WebSocket message bound in force: ``maxMessageSize``, or four line caps and at least
    /// 64 KiB, so a browser cannot make the server hold a 16 MiB message for a 4 KiB line.
    public var webSocketMaxMessageSize: Int { maxMessageSize ?? max(4 * maxLineLength, 64 * 1024) }

    /// The participant cap in force: ``maxParticipants``, or the open-file limit less
    /// ``reservedFileDescriptors`` (at least 1).
    public func participantLimit(openFileLimit: Int) -> Int {
        maxParticipants ?? max(1, openFileLimit - Self.reservedFileDescriptors)
    }
}
