import Logging
import UVLoop

/// One participant's connection in plain mode: the seed's relay, byte for byte, plus the line
/// cap, the outbound bound and the idle timeout (if set).
///
/// ```swift
/// let participant = room.admit(stream)
/// loop.spawn { await PlainSession(participant: participant, room: room, configuration: configuration, loop: loop, log: log, console: console).run() }
/// ```
public struct PlainSession {
    let participant: Participant
    let room: Room
    let configuration: ChatConfiguration
    let loop: Loop
    let log: Logger
    let console: Console

    /// Creates the session of a participant admitted to `room`.
    public init(participant: Participant, room: Room, configuration: ChatConfiguration, loop: Loop, log: Logger, console: Console) {
        self.participant = participant
        self.room = room
        self.configuration = configuration
        self.loop = loop
        self.log = log
        self.console = console
    }

    /// Relays the participant's lines until it leaves, then closes it and tells the room.
    public func run() async {
        let departure = await relay()
        guard room.dismiss(participant) else { return }
        participant.stream.close()
        room.announceDeparture(of: participant, departure)
    }

    private func relay() async -> Departure {
        while true {
            switch await participant.readLine(idleTimeout: configuration.idleTimeout, on: loop) {
            case .line(let line):
                if configuration.isVerbose { console.say("Chat: \(LineReader.trimmingTerminator(line))") }
                room.broadcast(line, from: participant)
            case .tooLong:
                log.info("\(participant.logDescription): refused a line longer than \(configuration.maxLineLength) bytes")
                room.send(ChatText.lineTooLong(limit: configuration.maxLineLength), to: participant)
            case .end(let departure):
                return departure
            }
        }
    }
}
