/// What a listener accepted ahead of `accept()` calls, and the tasks waiting in `accept()`; part
/// of ``SocketAcceptor``. Loop thread only.
///
/// A failure to accept is queued like a connection, in order, so `accept()` throws it once
/// after the connections accepted before it. At most one failure is queued at a time: a
/// listener that keeps failing while nobody calls `accept()` reports it once, not once a try.
final class AcceptQueue<Connection> {
    /// Connections (and a failure) held for `accept()` calls, at most.
    let limit: Int
    private var ready = FIFO<Result<Connection, UVError>>()
    private var isFailureQueued = false
    private let waiters: WaitQueue<Connection>

    init(loop: Loop, limit: Int) {
        self.limit = limit
        waiters = WaitQueue(loop: loop)
    }

    /// Entries accepted and not yet taken.
    var readyCount: Int { ready.count }

    /// Tasks waiting in `accept()`; nonzero only while nothing is ready.
    var waiterCount: Int { waiters.count }

    /// How many connections the listener may take now: one for each waiting task, plus the room
    /// left ahead of demand. Zero means: leave them in the kernel's backlog.
    var demand: Int { waiters.count + max(0, limit - readyCount) }

    /// Hands `connection` to the longest-waiting task, or queues it.
    func append(_ connection: Connection) {
        if !waiters.resumeFirst(with: .success(connection)) { ready.append(.success(connection)) }
    }

    /// Hands `failure` to the longest-waiting task, or queues it unless a failure already is.
    func append(failure: UVError) {
        if waiters.resumeFirst(with: .failure(failure)) || isFailureQueued { return }
        isFailureQueued = true
        ready.append(.failure(failure))
    }

    /// The oldest queued connection or failure, or `nil` if none.
    func takeNext() -> Result<Connection, UVError>? {
        guard let next = ready.popFirst() else { return nil }
        if case .failure = next { isFailureQueued = false }
        return next
    }

    /// Suspends until ``append(_:)`` or ``append(failure:)`` hands this task a result, or the
    /// task is cancelled (`CancellationError`).
    func wait() async throws -> Connection {
        try await waiters.wait()
    }

    /// Fails every waiting task with `error`; returns the connections not taken, to be closed.
    func close(failing error: UVError) -> [Connection] {
        waiters.resumeAll(with: .failure(error))
        var left: [Connection] = []
        while let next = takeNext() {
            if case .success(let connection) = next { left.append(connection) }
        }
        return left
    }
}
