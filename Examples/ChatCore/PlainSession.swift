import Logging
import UVLoop

/// One connection in plain mode: the seed's relay, byte for byte, plus the line cap, the
/// outbound bound and the idle timeout (if set).
///
/// The connection joins the room as a bare stream (``Room/join(_:)``): no participant object.
/// A connection that is not talking holds no task either: while nothing is buffered it waits
/// with ``Stream/whenReadable(_:)``, and its next bytes start a new task. A connection whose
/// lines come less than ``talkingInterval`` apart waits in its task instead, so a steady talker
/// does not pay a task per line. An idle plain connection costs its stream, its libuv handle
/// and one waiting closure (PERFORMANCE.md, idle memory).
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

    /// Lines that come less than this apart make a talker, who waits for the next in its task.
    public static let talkingInterval: Duration = .seconds(1)

    /// Relays the connection's lines until it leaves, then closes it and tells the room.
    ///
    /// One function with the read inline: its frame sits under a talking connection's task,
    /// so it is kept as small as the seed's.
    @inline(never)  // a frame of its own, not merged into its caller's (see DESIGN.md §6)
    public func run() async {
        await run(lastLine: nil, woken: false)
    }

    /// ``run()``, knowing when the line before arrived (`nil`: none yet), and whether
    /// ``Stream/whenReadable(_:)`` started this task: then the first read does not wait (or the
    /// stream ended, failed or was closed, which the read reports), so it is made in the task.
    @inline(never)
    func run(lastLine: ContinuousClock.Instant?, woken: Bool) async {
        var lastLine = lastLine
        var woken = woken
        let departure: Departure
        while true {
            do {
                let line: Bytes?
                if let idleTimeout = context.configuration.idleTimeout {
                    line = try await readLine(within: idleTimeout)
                } else if !woken, stream.bufferedReadCount == 0, !isTalking(since: lastLine) {
                    return waitWithoutTask(lastLine: lastLine)
                } else {
                    woken = false
                    line = try await stream.readLineBytes()
                }
                guard let line else {
                    departure = .closed
                    break
                }
                lastLine = relay(line)
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

    /// Relays `line` and returns when it arrived.
    @inline(never)
    private func relay(_ line: Bytes) -> ContinuousClock.Instant {
        if context.configuration.isVerbose { context.console.say("Chat: \(LineReader.trimmingTerminator(line))") }
        context.room.broadcast(line, from: stream)
        return .now
    }

    /// True when the last line came within ``talkingInterval`` of now.
    @inline(never)
    private func isTalking(since lastLine: ContinuousClock.Instant?) -> Bool {
        guard let lastLine else { return false }
        return lastLine.duration(to: .now) < Self.talkingInterval
    }

    /// Ends this task; the connection's next bytes (or its end, or its close) start another.
    /// Without an idle timeout only: that timeout is a wait of the task's.
    @inline(never)
    private func waitWithoutTask(lastLine: ContinuousClock.Instant?) {
        let session = self
        session.stream.whenReadable {
            session.context.loop.spawn { await session.run(lastLine: lastLine, woken: true) }
        }
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
