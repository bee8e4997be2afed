/// A scope of tasks on one loop that all end before the scope does — structured `spawn`.
///
/// Like Trio's nursery or eventlet's `GreenPile`: tasks started with ``spawn(_:)`` may capture
/// the caller's state; if one throws, the others are cancelled and the error is rethrown by
/// ``Loop/withSpawnGroup(_:)``.
public struct SpawnGroup: ~Copyable {
    var group: ThrowingDiscardingTaskGroup<any Error>
    let loop: Loop

    /// Starts a child task on the group's loop.
    public mutating func spawn(_ body: @escaping () async throws -> Void) {
        loop.assertOnLoop("SpawnGroup.spawn")
        // Safe: spawned from the loop thread (asserted) onto the loop's task executor (one thread).
        let work = SpawnedBody(body)
        group.addTask(executorPreference: loop.executor) { try await work.run() }
    }

    /// Cancels every task in the group.
    public func cancelAll() { group.cancelAll() }
}

extension Loop {
    /// Runs `body` with a ``SpawnGroup`` and waits for every task it spawned.
    ///
    /// ```swift
    /// try await loop.withSpawnGroup { group in
    ///     for client in clients { group.spawn { try await greet(client) } }
    /// }
    /// ```
    public func withSpawnGroup<T>(_ body: (inout SpawnGroup) async throws -> T) async throws -> T {
        assertOnLoop("withSpawnGroup")
        return try await withThrowingDiscardingTaskGroup(returning: T.self) { group in
            var spawnGroup = SpawnGroup(group: group, loop: self)
            return try await body(&spawnGroup)
        }
    }
}
