import Logging
import UVLoop

/// One connection in plain mode: the seed's relay, byte for byte, plus the line cap, the
/// outbound bound and the idle timeout (if set).
///
/// The connection joins the room as a bare stream (``Room/join(_:)``): no participant object,
/// so an idle plain connection holds only its task, its stream and this session's two
/// references, which live in the task's own frame.
///
/// ```swift
/// context.room.join(stream)
/// loop.spawn { await PlainSession(stream: stream, context: context).run() }
/// ```
public struct PlainSession {
    let stream: TCPStream
    let context: SessionContext

    /// Creates the session of a connection that joined `context.room`.
    public init(stream: TCPStream, context: SessionContext) {
        self.stream = stream
        self.context = context
    }

    /// Runs the session of `stream`, which joined the room of the server whose accept loop
    /// spawned the calling task (found as ``SessionContext/current``).
    public static func run(_ stream: TCPStream) async {
        guard let context = SessionContext.current?.value else { return stream.close() }
        await PlainSession(stream: stream, context: context).run()
    }

    /// Relays the connection's lines until it leaves, then closes it and tells the room.
    ///
    /// One function with the read inline: its frame sits under every idle connection's task,
    /// so it is kept as small as the seed's.
    @inline(never)  // a frame of its own, not merged into its caller's (see DESIGN.md §6)
    public func run() async {
        let departure: Departure
        while true {
            do {
                let line: Bytes?
                if let idleTimeout = context.configuration.idleTimeout {
                    line = try await readLine(within: idleTimeout)
                } else {
                    line = try await stream.readLineBytes()
                }
                guard let line else {
                    departure = .closed
                    break
                }
                relay(line)
            } catch is LineTooLongError {
                refuseLongLine()
            } catch {
                departure = Departure(readError: error)
                break
            }
        }
        leave(departure)
    }

    // The steps around the reads are functions of their own (not inlined), so their locals are
    // not part of `run`'s frame, which every idle connection's task holds.

    @inline(never)
    private func relay(_ line: Bytes) {
        if context.configuration.isVerbose { context.console.say("Chat: \(LineReader.trimmingTerminator(line))") }
        context.room.broadcast(line, from: stream)
    }

    @inline(never)
    private func leave(_ departure: Departure) {
        let peer = stream.peerAddress
        guard context.room.leave(stream) else { return }
        stream.close()
        context.room.announceDeparture(of: stream, peer: peer, departure)
    }

    /// Reads the next line, throwing `TimeoutError` if none comes within `timeout`. Kept out of
    /// ``run()`` so its frame (and the timeout's) is not part of every idle connection's.
    @inline(never)
    private func readLine(within timeout: Duration) async throws -> Bytes? {
        let stream = self.stream
        return try await context.loop.withTimeout(timeout) { try await stream.readLineBytes() }
    }

    @inline(never)
    private func refuseLongLine() {
        let limit = context.configuration.maxLineLength
        context.log.info("\(Room.describe(stream)): refused a line longer than \(limit) bytes")
        context.room.send(ChatText.lineTooLong(limit: limit), to: stream)
    }
}
