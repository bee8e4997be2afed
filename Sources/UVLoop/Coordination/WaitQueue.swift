/// A FIFO of tasks waiting on one loop, each for a value of type `Value`; the building block of
/// the loop-local coordination types. Loop thread only; no locks.
///
/// A cancelled waiter is removed from the queue (in O(1), by its ``FIFO`` handle) and resumed
/// with `CancellationError`, so no value is ever handed to a task that stopped waiting.
final class WaitQueue<Value> {
    // Wrapped: the value may be non-Sendable; it is produced and consumed on the loop thread.
    private typealias Continuation = UnsafeContinuation<UnsafeTransfer<Value>, any Error>

    let loop: Loop
    private var entries = FIFO<Continuation>()

    init(loop: Loop) { self.loop = loop }

    var isEmpty: Bool { entries.isEmpty }
    var count: Int { entries.count }

    /// Suspends until `resumeFirst` hands this waiter a value (or an error), or the task is cancelled.
    func wait() async throws -> Value {
        loop.assertOnLoop("wait")
        // The continuation is appended below without a suspension in between, so it gets this handle.
        let handle = entries.nextHandle
        let this = UnsafeTransfer(self)
        return try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: Continuation) in
                if Task.isCancelled {
                    continuation.resume(throwing: CancellationError())
                } else {
                    let appended = entries.append(continuation)
                    assert(appended == handle, "a wait suspended before queueing its continuation")
                }
            }
        } onCancel: {
            // Safe: the queue is touched only after the hop to its loop's thread.
            this.value.loop.onLoopThread { this.value.entries.remove(handle)?.resume(throwing: CancellationError()) }
        }.value
    }

    /// Resumes the longest-waiting task with `result`; false if nobody waits.
    @discardableResult
    func resumeFirst(with result: Result<Value, any Error>) -> Bool {
        guard let continuation = entries.popFirst() else { return false }
        continuation.resume(with: result.map(UnsafeTransfer.init))
        return true
    }

    /// Resumes every waiting task with `result`.
    func resumeAll(with result: Result<Value, any Error>) {
        for continuation in entries.removeAll() { continuation.resume(with: result.map(UnsafeTransfer.init)) }
    }
}
