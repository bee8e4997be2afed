/// A flag tasks of one loop can wait for, like eventlet's `Event` or asyncio's `Event`.
///
/// ```swift
/// let ready = Event(on: loop)
/// loop.spawn { try await ready.wait(); print("go") }
/// ready.set()
/// ```
public final class Event {
    private let waiters: WaitQueue<Void>
    /// True between ``set()`` and ``clear()``.
    public private(set) var isSet = false

    /// Creates an event that is not set.
    public init(on loop: Loop) { waiters = WaitQueue(loop: loop) }

    /// Sets the flag and wakes every waiting task.
    public func set() {
        isSet = true
        waiters.resumeAll(with: .success(()))
    }

    /// Clears the flag; later ``wait()`` calls wait again.
    public func clear() { isSet = false }

    /// Returns at once if the flag is set, otherwise waits until it is.
    /// Throws `CancellationError` if the task is cancelled while waiting.
    public func wait() async throws {
        if isSet { return }
        try await waiters.wait()
    }
}
