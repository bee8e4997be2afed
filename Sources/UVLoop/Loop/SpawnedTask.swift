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

    /// Waits until the task has ended. An error it threw went to ``Loop/onUncaughtError``, not
    /// here: to get a task's result or error back, start it with ``Loop/spawnTask(_:)``.
    public var value: Void {
        get async { _ = await task.result }
    }
}

/// A task started by ``Loop/spawnTask(_:)``: `try await task.value` returns what its body
/// returned or rethrows what it threw.
///
/// Loop-bound: use it from the loop's own tasks. Several tasks may await one value.
///
/// ```swift
/// let fetch = loop.spawnTask { try await TCPStream.connect(host: "127.0.0.1", port: 6379, on: loop) }
/// // ... other work ...
/// let connection = try await fetch.value      // the connection, or the connect error
/// ```
public struct LoopTask<Success> {
    /// The task underneath, for ``cancel()``.
    public let spawned: SpawnedTask
    private let outcome: TaskOutcome<Success>

    init(spawned: SpawnedTask, outcome: TaskOutcome<Success>) {
        self.spawned = spawned
        self.outcome = outcome
    }

    /// Waits for the task to end; returns what its body returned, or rethrows what it threw
    /// (`CancellationError` if it was cancelled at a wait). Throws `CancellationError` if the
    /// *waiting* task is cancelled; the spawned task goes on (``cancel()`` it if it should not).
    public var value: Success {
        get async throws { try await outcome.wait() }
    }

    /// Asks the task to stop: its current or next wait throws `CancellationError`.
    public func cancel() { spawned.cancel() }

    /// True once the task was cancelled.
    public var isCancelled: Bool { spawned.isCancelled }
}

/// Where a ``LoopTask``'s body leaves its outcome, and who waits for it; loop thread only.
final class TaskOutcome<Success> {
    private var result: Result<Success, any Error>?
    private let waiters: WaitQueue<Void>

    init(loop: Loop) { waiters = WaitQueue(loop: loop) }

    func finish(_ result: Result<Success, any Error>) {
        self.result = result
        waiters.resumeAll(with: .success(()))
    }

    func wait() async throws -> Success {
        while true {
            if let result { return try result.get() }
            try await waiters.wait()
        }
    }
}

extension Loop {
    /// Starts a task on this loop, like ``spawn(_:)``, whose result or error comes back to
    /// whoever awaits ``LoopTask/value`` — an error does not go to ``onUncaughtError``, so
    /// await the value, or the error goes unseen. The loop cancels the task when it stops.
    ///
    /// ```swift
    /// let answer = loop.spawnTask { try await client.readLine() }
    /// let line = try await answer.value
    /// ```
    public func spawnTask<Success>(_ body: @escaping () async throws -> Success) -> LoopTask<Success> {
        let outcome = TaskOutcome<Success>(loop: self)
        let spawned = spawn {
            do {
                outcome.finish(.success(try await body()))
            } catch {
                outcome.finish(.failure(error))
            }
        }
        return LoopTask(spawned: spawned, outcome: outcome)
    }
}
