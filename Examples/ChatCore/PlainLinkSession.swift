import UVLoop

/// A participant over a stream other than TCP (a browser's WebSocket) in plain mode: its lines
/// relayed byte for byte, under the line cap, the outbound bound and the idle timeout, as
/// ``PlainSession`` relays a TCP connection's. It exists so `--plain --http-port` compares the
/// same room over TCP and over WebSocket (`scripts/bench_ws.sh`).
///
/// ```swift
/// await PlainLinkSession(participant: room.admit(link, kind: .websocket), context: context).run()
/// ```
public struct PlainLinkSession: ParticipantSession {
    let participant: Participant
    let context: SessionContext

    /// Creates the session of a participant admitted to `context.room`, a plain room.
    public init(participant: Participant, context: SessionContext) {
        self.participant = participant
        self.context = context
    }

    /// Relays the participant's lines until it leaves, then closes it and tells the room.
    ///
    /// While the participant sends nothing, the session holds no task where its stream allows
    /// (``Participant/waitsWithoutTask(idleTimeout:resume:)``): this task ends, and the next
    /// message starts another.
    public func run() async {
        await runSession()
    }

    /// Starts the session without waiting: it waits for the participant's first message
    /// without a task where it can, else in a new task (as ``run()``).
    public func start() {
        startSession()
    }

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
                context.room.broadcast(line, from: participant)
            } catch is LineTooLongError {
                context.log.info("\(participant.logDescription): refused a line longer than \(context.configuration.maxLineLength) bytes")
                context.room.send(ChatText.lineTooLong(limit: context.configuration.maxLineLength), to: participant)
            } catch {
                departure = Departure(readError: error)
                break
            }
            if !participant.isPresent {
                departure = .tooSlow
                break
            }
            if waitsIdle() { return }
        }
        guard !context.room.isClosing, context.room.dismiss(participant) else { return }
        participant.stream.close()
        context.room.announceDeparture(of: participant, departure)
    }
}
