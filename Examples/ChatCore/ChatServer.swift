import Logging
import UVLoop
import UVLoopTLS

/// The chat server: listens, admits participants up to the cap, runs a session for each, and
/// shuts down gracefully on SIGINT or SIGTERM.
///
/// ```swift
/// try Loop.run { loop in
///     let server = try ChatServer(configuration: ChatConfiguration(), log: Logger(label: "chat"), on: loop)
///     await server.run()          // prints "ChatServer starting up on port N"; returns after a signal
/// }
/// ```
public final class ChatServer {
    /// The settings it runs with.
    public let configuration: ChatConfiguration
    /// The room everyone joins.
    public let room: Room
    /// The port it listens on (useful with port 0).
    public let port: Int
    /// The port of the TLS listener, if there is one.
    public var tlsPort: Int? { tls?.listener.port }
    /// The most participants at once; one more is told the room is full and closed.
    public let participantLimit: Int
    let loop: Loop
    private let listener: TCPListener
    /// The TLS listener and the certificates its handshakes start from, if any.
    let tls: (listener: TCPListener, context: TLSContext)?
    /// The web listener (`--http-port`): the chat page, the room over WebSocket, health, metrics.
    let web: TCPListener?
    /// The port of the web listener, if there is one.
    public var httpPort: Int? { web?.port }
    /// Frames the room's lines once for all browser participants.
    let lineFramer = WebSocketLineFramer()
    /// TLS and WebSocket connections accepted whose handshake has not ended: they count against the cap.
    var handshakes = 0
    private let shutdown: GracefulShutdown
    let log: Logger
    let console: Console
    let context: SessionContext
    /// The room's link to the other processes sharing it, if federated.
    let federation: Federation?
    /// Connections being told the room is full; past ``maxRefusals`` they are closed at once.
    private var refusals = 0
    private let maxRefusals = ChatConfiguration.reservedFileDescriptors / 2

    /// Binds the listener and starts catching SIGINT and SIGTERM, both before ``run()``
    /// announces the port, so no client or signal can come too early.
    ///
    /// Throws `UVError` if it cannot listen (`EADDRINUSE`) or watch the signals, `TLSError`
    /// if the TLS certificate or key cannot be loaded.
    public init(configuration: ChatConfiguration, log: Logger, console: Console = .standardOutput, on loop: Loop) throws {
        self.configuration = configuration
        self.log = log
        self.console = console
        self.loop = loop
        let tlsContext = try configuration.tls.map { try ChatServer.makeTLSContext($0) }
        listener = try TCPListener(
            host: configuration.host, port: configuration.port, reusePort: configuration.reusePort, on: loop)
        listener.maxLineLength = configuration.maxLineLength
        do {
            if let settings = configuration.tls, let tlsContext {
                let tlsListener = try TCPListener(host: configuration.host, port: settings.port, on: loop)
                tlsListener.maxLineLength = configuration.maxLineLength
                tls = (tlsListener, tlsContext)
            } else {
                tls = nil
            }
        } catch {
            listener.close()
            throw error
        }
        do {
            web = try configuration.httpPort.map { try TCPListener(host: configuration.host, port: $0, on: loop) }
        } catch {
            listener.close()
            tls?.listener.close()
            throw error
        }
        do {
            shutdown = try GracefulShutdown(on: loop)
        } catch {
            listener.close()
            tls?.listener.close()
            web?.close()
            throw error
        }
        port = listener.port
        participantLimit = configuration.participantLimit(openFileLimit: Loop.openFileLimit)
        room = Room(
            isPlain: configuration.isPlain, maxQueuedBytes: configuration.maxQueuedBytes,
            floodLimit: configuration.floodRate.map { ($0, configuration.floodBurst) },
            largeRoomThreshold: configuration.largeRoomThreshold, summaryInterval: configuration.summaryInterval, log: log,
            console: console)
        context = SessionContext(configuration: configuration, room: room, loop: loop, log: log, console: console)
        let room = room
        federation = configuration.federation.map { Federation(settings: $0, room: room, log: log, on: loop) }
    }

    /// Prints `ChatServer starting up on port N`, serves until a shutdown signal (or ``stop()``),
    /// then stops accepting, tells everyone, flushes for at most the shutdown timeout, closes
    /// every connection and prints `ChatServer exiting.`.
    public func run() async {
        console.say("ChatServer starting up on port \(port)")
        log.info(
            "listening on \(listener.boundAddress ?? listener.localAddress); at most \(participantLimit) participants, lines of \(configuration.maxLineLength) bytes"
        )
        federation?.start()
        let tlsTasks = startTLS()
        let webTask = startWeb()
        let watcher = loop.spawn {
            guard let signal = try? await self.shutdown.wait() else { return }
            self.log.notice("\(signal) received: shutting down")
            self.listener.close()
            self.tls?.listener.close()
            self.web?.close()
        }
        await SessionContext.$current.withValue(LoopBound(context, on: loop)) { await acceptConnections() }
        watcher.cancel()
        tls?.listener.close()
        for task in tlsTasks { task.cancel() }
        web?.close()
        webTask?.cancel()
        await shutDown()
        await federation?.finish(within: configuration.shutdownTimeout)
        console.say("ChatServer exiting.")
    }

    /// Asks the server to shut down gracefully, as SIGTERM does.
    public func stop() { shutdown.trigger(.terminate) }

    private func acceptConnections() async {
        // Accept failures (out of file descriptors, say) are logged at most every 10 s, with a
        // count of those in between; the listener itself backs off before it tries again.
        var lastFailureReport: ContinuousClock.Instant?
        var unreportedFailures = 0
        let report = { [log] (error: any Error) in
            let now = ContinuousClock.now
            if let last = lastFailureReport, now - last < .seconds(10) {
                unreportedFailures += 1
            } else {
                let since = unreportedFailures > 0 ? " (\(unreportedFailures) more since the last report)" : ""
                log.error("accepting failed: \(error)\(since); the listener backs off and retries")
                lastFailureReport = now
                unreportedFailures = 0
            }
        }
        // `connections` ends when the listener closes (a shutdown signal) or this task is cancelled.
        while !listener.isClosed && !Task.isCancelled {
            do {
                for try await stream in listener.connections(onFailure: report) { admit(stream) }
            } catch {
                report(error)  // unexpected, but the listener backs off before it tries again
            }
        }
    }

    /// Admits `stream` to the room, or refuses it when the room is full.
    private func admit(_ stream: TCPStream) {
        if room.count + handshakes >= participantLimit {
            refuse(stream)
            return
        }
        if configuration.isPlain {
            room.join(stream)
            // The closure captures the stream alone, which then serves as its context (no
            // heap block); the session finds the server's context as a task-local value.
            loop.spawn { await PlainSession.run(stream) }
        } else {
            let session = ChatSession(participant: room.admit(stream), context: context)
            loop.spawn { await session.run() }
        }
    }

    /// Tells a connection over the cap that the room is full, then closes it.
    func refuse(_ stream: TCPStream) {
        log.notice(
            "refused a connection from \(stream.peerAddress?.description ?? "unknown address"): the room is full (\(participantLimit))")
        guard refusals < maxRefusals else {
            stream.close()
            return
        }
        refusals += 1
        loop.spawn {
            defer {
                stream.close()
                self.refusals -= 1
            }
            try? stream.write(ChatText.roomFull(limit: self.participantLimit))
            _ = try? await self.loop.withTimeout(.seconds(1)) { try await stream.flush() }
        }
    }

    private func shutDown() async {
        listener.close()
        let streams = room.streams + room.linkedParticipants.compactMap(\.underlyingStream)
        room.close(farewell: configuration.isPlain ? nil : ChatText.shuttingDown)
        let unwritten = await shutdown.flush(streams, within: configuration.shutdownTimeout)
        if !unwritten.isEmpty {
            log.warning("\(unwritten.count) connection(s) still had lines unwritten when the shutdown timeout passed")
        }
        room.disconnectAll(.shutdown)
        shutdown.close(ignoringSignals: true)
    }
}
