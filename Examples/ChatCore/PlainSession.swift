import Logging
import UVLoop

/// One participant's connection in plain mode: the seed's relay, byte for byte, plus the line
/// cap, the outbound bound and the idle timeout (if set).
///
/// ```swift
/// let participant = context.room.admit(stream)
/// loop.spawn { await PlainSession(participant: participant, context: context).run() }
/// ```
public struct PlainSession {
    let participant: Participant
    let context: SessionContext

    /// Creates the session of a participant admitted to `context.room`.
    public init(participant: Participant, context: SessionContext) {
        self.participant = participant
        self.context = context
    }

    /// Relays the participant's lines until it leaves, then closes it and tells the room.
    ///
    /// One function with the read inline: its frame sits under every idle connection's task,
    /// so it is kept as small as the seed's.
    public func run() async {
        let stream = participant.stream
        let room = context.room
        let departure: Departure
        while true {
            do {
                let line: Bytes?
                if let idleTimeout = context.configuration.idleTimeout {
                    line = try await participant.readLine(within: idleTimeout, on: context.loop)
                } else {
                    line = try await stream.readLineBytes()
                }
                guard let line else {
                    departure = .closed
                    break
                }
                if context.configuration.isVerbose { context.console.say("Chat: \(LineReader.trimmingTerminator(line))") }
                room.broadcast(line, from: participant)
            } catch is LineTooLongError {
                refuseLongLine()
            } catch {
                departure = Departure(readError: error)
                break
            }
        }
        guard room.dismiss(participant) else { return }
        stream.close()
        room.announceDeparture(of: participant, departure)
    }

    private func refuseLongLine() {
        let limit = context.configuration.maxLineLength
        context.log.info("\(participant.logDescription): refused a line longer than \(limit) bytes")
        context.room.send(ChatText.lineTooLong(limit: limit), to: participant)
    }
}
