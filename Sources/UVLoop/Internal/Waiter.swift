/// A one-shot bridge from a libuv callback to an awaiting task.
///
/// `wait` suspends until `resume` is called — exactly once, on the loop thread — or the task is
/// cancelled, in which case `onCancel` undoes the pending operation and the wait throws
/// `CancellationError`. Whatever comes second is ignored, so the continuation is resumed once.
final class Waiter<Value> {
    // The value is wrapped because it may be non-Sendable: it is produced and consumed on the
    // loop thread, by the callback and by the task that resumes there.
    private var continuation: UnsafeContinuation<UnsafeTransfer<Value>, any Error>?
    private var isFinished = false
    let loop: Loop

    init(loop: Loop) { self.loop = loop }

    /// Suspends; `start` begins the operation whose callback will call `resume`.
    func wait(
        start: () throws -> Void,
        onCancel: @escaping () -> Void = {}
    ) async throws -> Value {
        loop.assertOnLoop("wait")
        // Safe: the cancellation handler only touches `self` after hopping to the loop thread.
        let this = UncheckedBox(self)
        let cancel = UncheckedBox(onCancel)
        return try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<UnsafeTransfer<Value>, any Error>) in
                if Task.isCancelled {
                    continuation.resume(throwing: CancellationError())
                    return
                }
                do {
                    try start()
                } catch {
                    continuation.resume(throwing: error)
                    return
                }
                if isFinished {
                    // `start` completed synchronously and already delivered a result.
                    // Force-unwrap: `isFinished` without cancellation means `resume` stored a result.
                    continuation.resume(with: pending!.map(UnsafeTransfer.init))
                    pending = nil
                } else {
                    self.continuation = continuation
                }
            }.value
        } onCancel: {
            this.value.loop.onLoopThread {
                guard let continuation = this.value.continuation.take() else { return }
                this.value.isFinished = true
                cancel.value()
                continuation.resume(throwing: CancellationError())
            }
        }
    }

    private var pending: Result<Value, any Error>?

    /// Delivers the outcome; ignored after the first call or after cancellation.
    func resume(_ result: Result<Value, any Error>) {
        guard !isFinished else { return }
        isFinished = true
        if let continuation = continuation.take() {
            continuation.resume(with: result.map(UnsafeTransfer.init))
        } else {
            pending = result
        }
    }

    /// True once a result was delivered or the wait was cancelled.
    var isDone: Bool { isFinished }
}
