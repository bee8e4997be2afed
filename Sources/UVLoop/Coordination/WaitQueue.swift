/// A FIFO of tasks waiting on one loop, each for a value of type `Value`; the building block of
/// the loop-local coordination types. Loop thread only; no locks.
///
/// A cancelled waiter is removed from the queue and resumed with `CancellationError`, so no
/// value is ever handed to a task that stopped waiting.
final class WaitQueue<Value> {
    private struct Entry {
        let id: Int
        // Wrapped: the value may be non-Sendable; it is produced and consumed on the loop thread.
        let continuation: UnsafeContinuation<UnsafeTransfer<Value>, any Error>
    }

    let loop: Loop
    private var entries: [Entry] = []
    private var head = 0
    private var nextID = 0

    init(loop: Loop) { self.loop = loop }

    var isEmpty: Bool { head == entries.count }
    var count: Int { entries.count - head }

    /// Suspends until `resumeFirst` hands this waiter a value (or an error), or the task is cancelled.
    func wait() async throws -> Value {
        loop.assertOnLoop("wait")
        let id = nextID
        nextID += 1
        let this = UnsafeTransfer(self)
        return try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<UnsafeTransfer<Value>, any Error>) in
                if Task.isCancelled {
                    continuation.resume(throwing: CancellationError())
                } else {
                    entries.append(Entry(id: id, continuation: continuation))
                }
            }
        } onCancel: {
            // Safe: the queue is touched only after the hop to its loop's thread.
            this.value.loop.onLoopThread { this.value.cancel(id: id) }
        }.value
    }

    /// Resumes the longest-waiting task with `result`; false if nobody waits.
    @discardableResult
    func resumeFirst(with result: Result<Value, any Error>) -> Bool {
        guard head < entries.count else { return false }
        let entry = entries[head]
        head += 1
        compact()
        entry.continuation.resume(with: result.map(UnsafeTransfer.init))
        return true
    }

    /// Resumes every waiting task with `result`.
    func resumeAll(with result: Result<Value, any Error>) {
        let waiting = entries[head...]
        entries = []
        head = 0
        for entry in waiting { entry.continuation.resume(with: result.map(UnsafeTransfer.init)) }
    }

    private func cancel(id: Int) {
        guard let index = entries[head...].firstIndex(where: { $0.id == id }) else { return }
        let entry = entries.remove(at: index)
        entry.continuation.resume(throwing: CancellationError())
    }

    private func compact() {
        if head == entries.count {
            entries.removeAll(keepingCapacity: true)
            head = 0
        } else if head > 64 && head * 2 > entries.count {
            entries.removeFirst(head)
            head = 0
        }
    }
}
