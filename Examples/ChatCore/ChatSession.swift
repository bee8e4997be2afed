import Logging
import UVLoop

/// One participant's connection in chat mode: reads lines, applies the defences (line cap,
/// control characters and invalid UTF-8, flood limit, idle timeout) and runs the commands.
///
/// ```swift
/// let participant = context.room.admit(stream)      // welcomed, announced
/// loop.spawn { await ChatSession(participant: participant, context: context).run() }
/// ```
public struct ChatSession: ParticipantSession {
    let participant: Participant
    let context: SessionContext
    private var room: Room { context.room }
    private var configuration: ChatConfiguration { context.configuration }
    private var loop: Loop { context.loop }
    private var log: Logger { context.log }

    /// Creates the session of a participant admitted to `context.room`.
    public init(participant: Participant, context: SessionContext) {
        self.participant = participant
        self.context = context
    }

    /// Serves the participant until it leaves; then says goodbye where there is one to say,
    /// closes the connection and tells the room.
    ///
    /// While the participant sends nothing, the session holds no task where its stream allows
    /// (a browser: ``Participant/waitsWithoutTask(idleTimeout:resume:)``): this task ends, and
    /// the next message starts another.
    public func run() async {
        await runSession()
    }

    /// Starts the session without waiting: it waits for the participant's first message
    /// without a task where it can, else in a new task (as ``run()``).
    public func start() {
        startSession()
    }

    /// One function with the read inline, as in ``PlainSession/run()``: its frame sits under
    /// every idle participant's task, so everything else is in functions of their own.
    @inline(never)  // a frame of its own, not merged into its caller's (see DESIGN.md §6)
    func serve() async {
        let departure: Departure
        while true {
            do {
                let line: Bytes?
                if let idleTimeout = context.configuration.idleTimeout {
                    line = try await participant.readLine(within: idleTimeout, on: context.loop)
                } else {
                    line = try await participant.stream.readLineBytes()
                }
                guard let line else {
                    departure = .closed
                    break
                }
                if let asked = handle(line) {
                    departure = asked
                    break
                }
            } catch is LineTooLongError {
                refuseLongLine()
            } catch {
                departure = Departure(readError: error)
                break
            }
            // Disconnected by the room meanwhile (a reply took its queue over the bound).
            if !participant.isPresent {
                departure = .tooSlow
                break
            }
            if waitsIdle() { return }
        }
        await leave(departure)
    }

    @inline(never)
    private func leave(_ departure: Departure) async {
        // While closing, the room flushes and closes everyone itself; and it may have
        // disconnected this participant already (not reading).
        guard !room.isClosing, room.dismiss(participant) else { return }
        let farewell: Bytes? =
            switch departure {
            case .quit: ChatText.goodbye(participant.name)
            case .idle: configuration.idleTimeout.map(ChatText.idle)
            default: nil
            }
        await participant.close(after: farewell, within: configuration.farewellTimeout, on: loop)
        room.announceDeparture(of: participant, departure)
    }

    @inline(never)
    private func refuseLongLine() {
        refuse("a line longer than \(configuration.maxLineLength) bytes")
        reply(ChatText.lineTooLong(limit: configuration.maxLineLength))
    }

    /// Handles one line; returns a departure when the participant asked to leave.
    ///
    /// The line is parsed before it is sanitised, so a name with a control character in it is
    /// refused rather than quietly changed; what is relayed is always sanitised.
    @inline(never)
    private func handle(_ line: Bytes) -> Departure? {
        guard !room.isClosing else { return nil }
        let input = ChatInput(parsing: LineReader.trimmingTerminator(line).string)
        if input == .command(.quit) { return .quit }
        guard isWithinFloodLimit() else { return nil }
        switch input {
        case .nothing:
            break
        case .message(let text):
            let text = TextSanitizer.clean(text)
            guard !text.allSatisfy(\.isWhitespace) else { break }
            log.debug("\(participant.name): \(text)")
            room.broadcast(ChatText.chat(participant.name, text), from: participant)
        case .command(let command):
            perform(command)
        }
        return nil
    }

    private func perform(_ command: ChatInput.Command) {
        switch command {
        case .nick(let name):
            let current = participant.name
            do {
                try room.rename(participant, to: name)
            } catch {
                refuse("/nick \(TextSanitizer.clean(name)): \(error)")
                reply(ChatText.nickRefused(error, asked: name, current: current))
            }
        case .who:
            let listed = room.whoNames(limit: ChatConfiguration.maxNamesListed)
            reply(ChatText.who(listed.names, of: listed.total))
        case .me(let action):
            let action = TextSanitizer.clean(action)
            if action.allSatisfy(\.isWhitespace) {
                reply(ChatText.meUsage)
            } else {
                log.debug("* \(participant.name) \(action)")
                room.broadcast(ChatText.action(participant.name, action), from: participant)
            }
        case .help:
            reply(ChatText.help)
        case .unknown(let word):
            let word = TextSanitizer.clean(word)
            refuse("unknown command \(word)")
            reply(ChatText.unknownCommand(word))
        case .quit:
            break  // handled before the flood limit, so a flooder can always leave
        }
    }

    /// Takes a token from the participant's flood limiter; tells it once per burst when it has none.
    private func isWithinFloodLimit() -> Bool {
        guard let decision = participant.floodLimiter?.admit() else { return true }
        switch decision {
        case .admitted:
            return true
        case .refused(let isFirstOfRun):
            if isFirstOfRun, let limit = room.floodLimit {
                refuse("lines over the flood limit; dropping them until it slows down")
                reply(ChatText.flooding(rate: limit.rate, burst: limit.burst))
            }
            return false
        }
    }

    private func reply(_ line: Bytes) { room.send(line, to: participant) }

    private func refuse(_ what: String) { log.info("\(participant.logDescription): refused \(what)") }
}
