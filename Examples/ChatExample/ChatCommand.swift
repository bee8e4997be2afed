import ArgumentParser
import ChatCore
import Logging
import UVLoop

/// `swift run ChatExample`: the eventlet chat server, on UVLoop.
@main
struct ChatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ChatExample",
        abstract: "A line-based chat server: every line a participant sends goes to every other participant.",
        discussion: """
            Chat with it using `nc 127.0.0.1 3000`. Participants start as guest-N; /help lists the \
            commands (/nick NAME, /who, /me ACTION, /help, /quit). SIGINT or SIGTERM stops it \
            gracefully: it stops accepting, tells everyone, flushes for at most --shutdown-timeout \
            seconds, closes and exits 0. Logs go to standard error.
            """
    )

    @Option(help: "The address to listen on (IPv4 or IPv6).")
    var host = "0.0.0.0"

    @Option(help: "The TCP port to listen on (0 picks a free one).")
    var port = 3000

    @Option(
        help: ArgumentHelp(
            "Also listen for TLS on this port (0 picks a free one); its participants join the same room. Needs --tls-cert and --tls-key; chat with `openssl s_client -quiet -connect 127.0.0.1:PORT`. (default: no TLS listener)",
            valueName: "port"))
    var tlsPort: Int?

    @Option(
        help: ArgumentHelp(
            "Also serve the chat in a browser on this port: the page at /, the room over WebSocket at /chat, /health and /metrics (Prometheus). (default: none)",
            valueName: "port"))
    var httpPort: Int?

    @Option(
        help: ArgumentHelp("The TLS certificate chain (PEM). SIGHUP reads it again. (default: none)", valueName: "file"))
    var tlsCert: String?

    @Option(help: ArgumentHelp("The TLS certificate's private key (PEM). SIGHUP reads it again. (default: none)", valueName: "file"))
    var tlsKey: String?

    @Option(
        help: ArgumentHelp(
            "A TLS connection that has not finished its handshake within this many seconds is closed.",
            valueName: "seconds"))
    var tlsHandshakeTimeout = 10.0

    @Flag(
        help: """
            The seed's protocol: relay lines byte for byte, no welcome, names, commands, sanitising \
            or flood limit. The line cap, outbound bound, participant cap and graceful shutdown still apply.
            """)
    var plain = false

    @Flag(help: "With --plain, print every chat line to the console as 'Chat: ...'.")
    var verbose = false

    @Option(
        name: .customLong("log-level"),
        help: "Log level: trace, debug, info, notice, warning, error or critical. (default: info; warning with --plain)")
    var logLevel: LogLevel?

    @Option(
        help: ArgumentHelp(
            "The longest line accepted, in bytes; a longer one is refused and dropped. (default: 4096; 65536 with --plain)",
            valueName: "bytes"))
    var maxLineLength: Int?

    @Option(
        help: ArgumentHelp(
            "The largest WebSocket message a browser may send; a larger one closes its connection with 1009. (default: 4 x --max-line-length, at least 65536)",
            valueName: "bytes"))
    var maxMessageSize: Int?

    @Flag(help: "Let browsers agree permessage-deflate (RFC 7692) on /chat; each such participant costs a zlib state.")
    var wsCompression = false

    @Option(
        help: ArgumentHelp(
            "The most bytes queued for one participant beyond the socket buffer; one who stops reading is disconnected once over it.",
            valueName: "bytes"))
    var maxQueuedBytes = ChatConfiguration.defaultMaxQueuedBytes

    @Option(
        help: ArgumentHelp(
            "Flood limit: lines a second each participant may send on average; excess lines are dropped. 0 turns it off; no limit with --plain.",
            valueName: "lines"))
    var floodRate = ChatConfiguration.defaultFloodRate

    @Option(help: ArgumentHelp("Flood limit: lines a participant may send at once.", valueName: "lines"))
    var floodBurst = ChatConfiguration.defaultFloodBurst

    @Option(
        help: ArgumentHelp(
            "Disconnect a participant who sends no line for this many seconds. (default: off)", valueName: "seconds"))
    var idleTimeout: Double?

    @Option(
        help: ArgumentHelp(
            "The most participants at once; one more is told the room is full and closed. (default: what the open-file limit allows, less \(ChatConfiguration.reservedFileDescriptors))",
            valueName: "n"))
    var maxParticipants: Int?

    @Option(
        help: ArgumentHelp(
            "Up to this many participants, each join and departure is announced to the others; a larger room announces one summary line a second, every 10 s past ten times this ('1,234 joined and 56 left in the last second (900 here)').",
            valueName: "n"))
    var largeRoom = ChatConfiguration.defaultLargeRoomThreshold

    @Option(
        help: ArgumentHelp(
            "At shutdown, how long to wait for queued lines to be written before closing; a second signal cuts it short.",
            valueName: "seconds"))
    var shutdownTimeout = 3.0

    @Flag(help: "Share --port with other processes (SO_REUSEPORT): run several on one machine, the kernel spreads connections.")
    var reusePort = false

    @Option(
        help: ArgumentHelp(
            "Federate: one room across every process using this Redis (redis://HOST:PORT[/DB]). Lines, joins, leaves and renames are relayed both ways; names are unique across processes. (default: none, one process alone)",
            valueName: "url"))
    var redis: String?

    @Option(help: ArgumentHelp("With --redis, the room's name: processes with the same one share it.", valueName: "name"))
    var room = "chat"

    @Option(help: ArgumentHelp("With --redis, this process's name in the federation. (default: hostname-pid)", valueName: "name"))
    var node: String?

    @Option(
        help: ArgumentHelp(
            "With --redis, the room's stream is trimmed to about this many events: what a process can catch up on after losing Redis for a while.",
            valueName: "events"))
    var streamLength = 10_000

    @Option(
        help: ArgumentHelp(
            "With --redis, the most events of this process's participants held while Redis is unreachable; the oldest are dropped past it.",
            valueName: "events"))
    var outboxLimit = 10_000

    @Option(
        help: ArgumentHelp(
            "With --redis, how long this process's heartbeat lives: if it dies, its participants are announced as left within this plus 2 s.",
            valueName: "seconds"))
    var nodeTTL = 10.0

    func validate() throws {
        if redis == nil, room != "chat" || node != nil { throw ValidationError("--room and --node need --redis") }
        if streamLength < 1 || outboxLimit < 1 { throw ValidationError("--stream-length and --outbox-limit must be at least 1") }
        if nodeTTL < 3 || !nodeTTL.isFinite { throw ValidationError("--node-ttl must be at least 3 seconds") }
        if let maxLineLength, maxLineLength < 1 { throw ValidationError("--max-line-length must be at least 1") }
        let lineCap = maxLineLength ?? (plain ? ChatConfiguration.plainMaxLineLength : ChatConfiguration.defaultMaxLineLength)
        if maxQueuedBytes <= lineCap {
            throw ValidationError("--max-queued-bytes must be larger than --max-line-length")
        }
        if let maxMessageSize, maxMessageSize < 125 { throw ValidationError("--max-message-size must be at least 125") }
        if (maxMessageSize != nil || wsCompression) && httpPort == nil {
            throw ValidationError("--max-message-size and --ws-compression need --http-port")
        }
        if floodRate < 0 || !floodRate.isFinite { throw ValidationError("--flood-rate must be 0 or more") }
        if floodBurst < 1 { throw ValidationError("--flood-burst must be at least 1") }
        if let idleTimeout, idleTimeout <= 0 || !idleTimeout.isFinite { throw ValidationError("--idle-timeout must be positive") }
        if let maxParticipants, maxParticipants < 1 { throw ValidationError("--max-participants must be at least 1") }
        if largeRoom < 0 { throw ValidationError("--large-room must be 0 or more") }
        if shutdownTimeout < 0 || !shutdownTimeout.isFinite { throw ValidationError("--shutdown-timeout must be 0 or more") }
        if tlsPort != nil {
            if tlsCert == nil || tlsKey == nil { throw ValidationError("--tls-port needs --tls-cert and --tls-key") }
            if plain { throw ValidationError("--tls-port is for chat mode, not --plain") }
        } else if tlsCert != nil || tlsKey != nil {
            throw ValidationError("--tls-cert and --tls-key need --tls-port")
        }
        if tlsHandshakeTimeout <= 0 || !tlsHandshakeTimeout.isFinite {
            throw ValidationError("--tls-handshake-timeout must be positive")
        }
    }

    func run() throws {
        var configuration = ChatConfiguration.plain(plain)
        configuration.host = host
        configuration.port = port
        configuration.isVerbose = verbose
        if let maxLineLength { configuration.maxLineLength = maxLineLength }
        configuration.maxQueuedBytes = maxQueuedBytes
        if !plain { configuration.floodRate = floodRate > 0 ? floodRate : nil }
        configuration.floodBurst = floodBurst
        configuration.idleTimeout = idleTimeout.map { .milliseconds(Int64(($0 * 1000).rounded(.up))) }
        configuration.maxParticipants = maxParticipants
        configuration.largeRoomThreshold = largeRoom
        configuration.shutdownTimeout = .milliseconds(Int64((shutdownTimeout * 1000).rounded()))
        configuration.httpPort = httpPort
        configuration.maxMessageSize = maxMessageSize
        configuration.webSocketCompression = wsCompression
        if let tlsPort, let tlsCert, let tlsKey {
            var tls = ChatTLSSettings(port: tlsPort, certificateFile: tlsCert, privateKeyFile: tlsKey)
            tls.handshakeTimeout = .milliseconds(Int64((tlsHandshakeTimeout * 1000).rounded(.up)))
            configuration.tls = tls
        }

        configuration.reusePort = reusePort
        if let redis {
            var federation = FederationSettings(redisURL: redis, room: room, node: node)
            federation.streamLength = streamLength
            federation.outboxLimit = outboxLimit
            federation.nodeTTL = .milliseconds(Int64((nodeTTL * 1000).rounded()))
            configuration.federation = federation
        }

        let level = (logLevel ?? (plain ? .warning : .info)).level
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        var log = Logger(label: "ChatExample")
        log.logLevel = level
        let settings = configuration
        let logger = log
        try Loop.run { loop in
            let server = try ChatServer(configuration: settings, log: logger, on: loop)
            await server.run()
        }
    }
}

/// The values of `--log-level`.
enum LogLevel: String, CaseIterable, ExpressibleByArgument {
    case trace, debug, info, notice, warning, error, critical

    var level: Logger.Level { Logger.Level(rawValue: rawValue)! }
}
