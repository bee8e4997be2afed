import CLibUV

/// Thrown by ``Loop/withTimeout(_:_:)`` when the time runs out first.
public struct TimeoutError: Error, Sendable, CustomStringConvertible {
    /// The time that was allowed.
    public let timeout: Duration
    public var description: String { "timed out after \(timeout)" }
}

extension Loop {
    /// Suspends the calling task for `duration`, on a libuv timer of this loop.
    ///
    /// Throws `CancellationError` at once if the task is cancelled while it sleeps.
    /// (`Task.sleep` works in loop tasks too; this one costs no thread hop.)
    public func sleep(for duration: Duration) async throws {
        let waiter = Waiter<Void>(loop: self)
        let timer = LoopTimer(loop: self) { waiter.resume(.success(())) }
        defer { timer.close() }
        try await waiter.wait(start: { timer.start(after: duration) })
    }

    /// Runs `body`, cancelling it and throwing ``TimeoutError`` if it takes longer than `timeout`.
    ///
    /// Works around any wait: a read, an accept, a connect, a whole exchange.
    ///
    /// ```swift
    /// let line = try await loop.withTimeout(.seconds(5)) { try await client.readLine() }
    /// ```
    public func withTimeout<T>(_ timeout: Duration, _ body: () async throws -> T) async throws -> T {
        assertOnLoop("withTimeout")
        // Safe: the child tasks below prefer this loop's task executor, so `body` and the
        // result box are used on the loop thread only, and `body` ends before this returns.
        return try await withoutActuallyEscaping(body) { body in
            let work = UncheckedBox(body)
            let result = UncheckedBox<T?>(nil)
            try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask(executorPreference: executor) {
                    result.value = try await work.value()
                    return true
                }
                group.addTask(executorPreference: executor) {
                    try await self.sleep(for: timeout)
                    return false
                }
                defer { group.cancelAll() }
                // Force-unwrap: the group has two children, so the first `next` yields a value or throws.
                let finished = try await group.next()!
                if !finished { throw TimeoutError(timeout: timeout) }
            }
            // Force-unwrap: `finished` was true, so the body stored its result.
            return result.value!
        }
    }
}
