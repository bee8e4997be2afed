/// A task started by ``Loop/spawn(_:)``: cancel it, or wait for it to end.
///
/// ```swift
/// let ticker = loop.spawn {
///     while true { try await loop.sleep(for: .seconds(1)); print("tick") }
/// }
/// ticker.cancel()
/// await ticker.value      // returns once the task has ended
/// ```
public struct SpawnedTask: Sendable, Hashable {
    // A throwing task underneath, though the body's errors never reach it (the loop catches
    // them and hands them to `onUncaughtError`): the runtime runs throwing task bodies as they
    // are, while a non-throwing one is wrapped in a thunk, a heap block per task.
    let task: Task<Void, any Error>

    /// Asks the task to stop: its current or next wait throws `CancellationError`.
    public func cancel() { task.cancel() }

    /// True once the task was cancelled.
    public var isCancelled: Bool { task.isCancelled }

    /// Waits until the task has ended. An error it threw went to ``Loop/onUncaughtError``.
    public var value: Void {
        get async { _ = await task.result }
    }
}
