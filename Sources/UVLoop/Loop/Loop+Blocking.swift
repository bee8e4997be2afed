import CLibUV

extension Loop {
    /// Runs `body` on libuv's thread pool (`uv_queue_work`) and returns its result, so that
    /// blocking or CPU-heavy work does not stall the loop — like eventlet's `tpool.execute`.
    ///
    /// The pool is shared by every loop of the process (and by file-system and DNS requests);
    /// it has 4 threads unless `UV_THREADPOOL_SIZE` says otherwise before the first use. Jobs
    /// start in the order they were queued. `body` must not touch the loop's streams or other
    /// loop objects: it runs on another thread (hence `@Sendable`).
    ///
    /// Cancellation: a cancelled call throws `CancellationError` at once. A job that has not
    /// started is removed from the queue (`uv_cancel`) and never runs. A job that has started
    /// cannot be interrupted: it runs to completion on its pool thread and its result or error
    /// is discarded — the loop waits for it before it shuts down.
    ///
    /// ```swift
    /// let digest = try await loop.runBlocking { try sha256(contentsOf: path) }
    /// ```
    public func runBlocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        assertOnLoop("runBlocking")
        let job = BlockingJob(body: body)
        let request = Request<uv_work_t, Void>(loop: self, operation: "queue work on the thread pool", context: job)
        try await request.perform(
            start: { request in
                uv_queue_work(
                    uv, request,
                    { request in
                        // On a pool thread: only the job's body and result are touched here.
                        // unsafeDowncast: `runBlocking` made the context a PoolJob.
                        unsafeDowncast(Request<uv_work_t, Void>.context(of: request!)!, to: PoolJob.self).run()
                    },
                    { request, status in
                        // ECANCELED: `uv_cancel` removed the job before it started.
                        Request<uv_work_t, Void>.complete(request) { _ in
                            status == UVError.Code.cancelled
                                ? .failure(CancellationError())
                                : status < 0 ? .failure(UVError(code: status, operation: "run work")) : .success(())
                        }
                    })
            },
            // Fails with EBUSY once the job has started; it then runs to completion.
            onCancel: Request<uv_work_t, Void>.cancelQueued)
        return try job.takeResult()
    }
}

/// What a thread-pool request runs, without knowing the job's result type (a class, so that the
/// pool thread can reach it from the request's context).
class PoolJob: @unchecked Sendable {
    // @unchecked Sendable: see each subclass.

    /// Runs the work; called on a pool thread.
    func run() {}
}

/// One `runBlocking` call: the closure and its result.
final class BlockingJob<T: Sendable>: PoolJob, @unchecked Sendable {
    // @unchecked Sendable: `result` is written by the pool thread in `run` and read on the loop
    // thread after the request's callback; libuv orders the two (the pool hands the request back
    // to the loop through a mutex and `uv_async_send`).
    private let body: @Sendable () throws -> T
    private var result: Result<T, any Error>?

    init(body: @escaping @Sendable () throws -> T) {
        self.body = body
    }

    override func run() {
        result = Result { try body() }
    }

    /// The result, once the request called back with success.
    func takeResult() throws -> T {
        // Force-unwrap: libuv calls the after-work callback with status 0 only after `run`.
        try result!.get()
    }
}
