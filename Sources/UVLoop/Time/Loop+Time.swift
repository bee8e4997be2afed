import CLibUV

/// Thrown by ``Loop/withTimeout(_:name:_:)`` when the time runs out first.
///
/// Its ``name`` tells timeouts apart: name each one, and a catch can tell an idle timeout
/// from a command deadline even when they nest.
///
/// ```swift
/// do {
///     try await loop.withTimeout(.seconds(60), name: "idle") { try await client.readLine() }
/// } catch let error as TimeoutError where error.name == "idle" {
///     try client.write("bye: \(error)\n")    // "bye: idle timed out after 60.0 seconds"
/// }
/// ```
public struct TimeoutError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The time that was allowed.
    public let timeout: Duration
    /// The name given to ``Loop/withTimeout(_:name:_:)``, if any.
    public let name: String?

    /// Creates the error a timeout named `name` throws after `timeout`; for code that runs its
    /// own clocks, and for tests.
    public init(timeout: Duration, name: String? = nil) {
        self.timeout = timeout
        self.name = name
    }

    /// `idle timed out after 5.0 seconds`, or `timed out after 5.0 seconds` without a name.
    public var description: String {
        if let name { return "\(name) timed out after \(timeout)" }
        return "timed out after \(timeout)"
    }
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
    /// Works around any wait: a read, an accept, a connect, a whole exchange. `name` goes into
    /// the error (``TimeoutError/name``), so nested timeouts can be told apart; an error `body`
    /// throws, a `TimeoutError` of an inner timeout included, is rethrown as it is.
    ///
    /// ```swift
    /// let line = try await loop.withTimeout(.seconds(5), name: "read request") { try await client.readLine() }
    /// ```
    public func withTimeout<T>(_ timeout: Duration, name: String? = nil, _ body: () async throws -> T) async throws -> T {
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
                if !finished { throw TimeoutError(timeout: timeout, name: name) }
            }
            // Force-unwrap: `finished` was true, so the body stored its result.
            return result.value!
        }
    }
}
