/// A counting semaphore for tasks of one loop: at most `value` holders at a time, first come
/// first served.
///
/// ```swift
/// let connections = Semaphore(value: 10, on: loop)
/// try await connections.withPermit { try await fetch(url) }
/// ```
public final class Semaphore {
    private let waiters: WaitQueue<Void>
    /// Permits available now.
    public private(set) var available: Int

    /// Creates a semaphore with `value` permits. A negative value is a programming error and traps.
    public init(value: Int, on loop: Loop) {
        precondition(value >= 0, "Semaphore value must be 0 (every wait waits for a signal) or more; got \(value)")
        available = value
        waiters = WaitQueue(loop: loop)
    }

    /// Takes a permit, waiting until one is free. Throws `CancellationError` if cancelled while
    /// waiting (no permit is then taken).
    public func acquire() async throws {
        if available > 0 && waiters.isEmpty {
            available -= 1
            return
        }
        try await waiters.wait()
    }

    /// Takes a permit if one is free now.
    public func tryAcquire() -> Bool {
        guard available > 0 && waiters.isEmpty else { return false }
        available -= 1
        return true
    }

    /// Returns a permit, handing it straight to the longest waiter if there is one.
    public func release() {
        if !waiters.resumeFirst(with: .success(())) { available += 1 }
    }

    /// Runs `body` holding a permit, and returns the permit afterwards, even if `body` throws.
    public func withPermit<T>(_ body: () async throws -> T) async throws -> T {
        try await acquire()
        defer { release() }
        return try await body()
    }
}
