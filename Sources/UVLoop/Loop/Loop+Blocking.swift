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
        let job = BlockingJob(loop: self, body: body)
        let request = UnsafeMutablePointer<uv_work_t>.allocate(capacity: 1)
        // Freed here if the wait ends before `start` runs (the task was already cancelled).
        var started = false
        defer { if !started { request.deallocate() } }
        return try await job.waiter.wait(
            start: {
                started = true
                // Retained until the after-work callback, which libuv always calls (with ECANCELED if
                // the job was cancelled before it started).
                request.pointee.data = Unmanaged.passRetained(job).toOpaque()
                let status = uv_queue_work(
                    uv, request,
                    { request in
                        // On a pool thread: only the job's body and result are touched here.
                        Unmanaged<PoolJob>.fromOpaque(request!.pointee.data).takeUnretainedValue().run()
                    },
                    { request, status in
                        let job = Unmanaged<PoolJob>.fromOpaque(request!.pointee.data).takeRetainedValue()
                        request!.deallocate()
                        job.finish(status: status)
                    })
                if status < 0 {
                    Unmanaged.passUnretained(job).release()
                    request.deallocate()
                    throw UVError(code: status, operation: "queue work on the thread pool")
                }
            },
            onCancel: {
                // Fails with EBUSY once the job has started; it then runs to completion.
                uv_cancel(UnsafeMutableRawPointer(request).assumingMemoryBound(to: uv_req_t.self))
            })
    }
}

/// What a thread-pool request calls, without knowing the job's result type (a class, not a
/// protocol, so that the C callbacks can recover it from the request's `data`).
class PoolJob: @unchecked Sendable {
    // @unchecked Sendable: see each subclass.

    /// Runs the work; called on a pool thread.
    func run() {}
    /// Delivers the outcome; called on the loop thread after `run` (or instead of it).
    func finish(status: Int32) {}
}

/// One `runBlocking` call: the closure, its result, and the loop-side waiter.
final class BlockingJob<T: Sendable>: PoolJob, @unchecked Sendable {
    // @unchecked Sendable: `result` is written by the pool thread in `run` and read on the loop
    // thread in `finish`; libuv orders the two (the pool hands the request back to the loop
    // through a mutex and `uv_async_send`). `waiter` is used on the loop thread only.
    private let body: @Sendable () throws -> T
    private var result: Result<T, any Error>?
    let waiter: Waiter<T>

    init(loop: Loop, body: @escaping @Sendable () throws -> T) {
        self.body = body
        waiter = Waiter(loop: loop)
    }

    override func run() {
        result = Result { try body() }
    }

    override func finish(status: Int32) {
        if status < 0 {
            waiter.resume(.failure(status == UVError.Code.cancelled ? CancellationError() : UVError(code: status, operation: "run work")))
        } else {
            // Force-unwrap: libuv calls the after-work callback with status 0 only after `run`.
            waiter.resume(result!)
        }
    }
}
