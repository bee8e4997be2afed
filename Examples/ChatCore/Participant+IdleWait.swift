import UVLoop

extension Participant {
    /// Lets the calling session's task end while the participant has sent nothing more: where
    /// its stream can wait without a task (a browser's WebSocket over TCP) and no idle timeout
    /// runs, registers `resume` to run in a new task once a message arrives (pings in between
    /// are answered without it: `WebSocketLineStream.whenLineAvailable`), and returns `true`
    /// (the caller returns at once). Returns `false` when the caller should read in its task:
    /// input is buffered already, the stream is TCP or TLS, or an idle timeout must be timed
    /// (a wait of the task's).
    ///
    /// An idle browser then holds no task and no task-allocator slabs (over 1 KB each): only
    /// its sockets, its session state and the registered closure (PERFORMANCE.md, WebSocket).
    /// Unlike ``PlainSession``, a talker gets no task to keep between lines: each line a
    /// browser sends is fanned out to the room, which costs far more than the task it starts.
    func waitsWithoutTask(idleTimeout: Duration?, resume: @escaping () async -> Void) -> Bool {
        guard kind == .websocket, idleTimeout == nil, let link = stream as? WebSocketLineStream, !link.hasBufferedInput else {
            return false
        }
        return link.whenLineAvailable(resume)
    }
}

/// A session serving one admitted participant (``ChatSession``, ``PlainLinkSession``): what
/// they share is how a session waits while its participant is idle.
protocol ParticipantSession {
    var participant: Participant { get }
    var context: SessionContext { get }
    /// Serves the participant until it leaves, or until it waits without a task.
    func serve() async
}

extension ParticipantSession {
    /// Serves the participant in the calling task, unless it can wait without one.
    func runSession() async {
        guard !waitsIdle() else { return }
        await serve()
    }

    /// Waits for the participant's first message without a task where it can, else in a new task.
    func startSession() {
        guard !waitsIdle() else { return }
        context.loop.spawn { [self] in await serve() }
    }

    /// Whether the participant now waits without a task (and ``serve()`` resumes on its next message).
    func waitsIdle() -> Bool {
        participant.waitsWithoutTask(idleTimeout: context.configuration.idleTimeout) { [self] in await serve() }
    }
}
