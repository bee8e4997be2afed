/// Events from a loop handle (timer, signal, file watcher), queued for the one task iterating
/// them. Loop thread only.
final class EventBuffer<Event> {
    let loop: Loop
    private var pending = FIFO<Event>()
    private var waiter: Waiter<Event>?
    /// Events held while nobody waits.
    private let limit: Int
    /// When `limit` events are held: true drops the oldest (a ticker's consumer wants the
    /// latest), false drops the new one.
    private let keepsLatest: Bool

    init(loop: Loop, limit: Int, keepsLatest: Bool) {
        self.loop = loop
        self.limit = limit
        self.keepsLatest = keepsLatest
    }

    /// Hands `event` to the waiting task, or queues it (see `keepsLatest` when `limit` are held).
    func push(_ event: Event) {
        if let waiter = waiter.take() {
            waiter.resume(.success(event))
        } else if pending.count < limit {
            pending.append(event)
        } else if keepsLatest {
            _ = pending.popFirst()
            pending.append(event)
        }
    }

    /// The next event, waiting for one. Throws `CancellationError` if the task is cancelled.
    func next() async throws -> Event {
        loop.assertOnLoop("next")
        if let event = pending.popFirst() { return event }
        let waiter = Waiter<Event>(loop: loop)
        self.waiter = waiter
        defer { self.waiter = nil }
        return try await waiter.wait(start: {})
    }
}

/// Runs `close` when the iterator holding it goes away — the end of a `for try await` loop, by
/// `break`, `return`, a thrown error or cancellation — on the loop thread.
final class ClosesOnRelease {
    private let loop: Loop
    private let close: () -> Void

    init(loop: Loop, close: @escaping () -> Void) {
        self.loop = loop
        self.close = close
    }

    deinit {
        // Safe: `close` is only called after the hop to the loop thread, which owns what it closes.
        let close = UnsafeTransfer(close)
        loop.onLoopThread { close.value() }
    }
}
