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
