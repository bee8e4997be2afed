import CLibUV

/// One libuv request (`uv_connect_t`, `uv_shutdown_t`, `uv_work_t`, `uv_getaddrinfo_t`,
/// `uv_fs_t`, …) awaited by one task: the one place that owns a request's life cycle.
///
/// ``perform(start:onCancel:)`` allocates the `UVRequest`, points its `data` at this object
/// (retained until the callback), and calls `start` to issue it. The C callback hands the outcome
/// to ``complete(_:_:)``, which takes that retain back, frees the request and resumes the task.
/// A request that fails to start never calls back: it is freed at once and its status thrown.
/// Cancelling the task runs `onCancel` (on the loop thread, while the request is still alive)
/// and throws `CancellationError`; libuv still calls back later, and a value that arrives then
/// goes to `abandon`. Loop thread only, except ``context(of:)``.
final class Request<UVRequest, Value> {
    private let waiter: Waiter<Value>
    /// What must outlive the request until its callback: bytes the kernel reads, a buffer it
    /// fills, a thread-pool job.
    let context: AnyObject?
    /// What `perform` was doing, and to what, for the error thrown when `start` fails.
    private let operation: String
    private let target: String?
    /// Undoes a value that arrived after its task stopped waiting (closes an opened file).
    private let abandon: (Value) -> Void
    /// Releases what libuv allocated inside the request (`uv_fs_req_cleanup`) just before it is
    /// freed, whether it called back or failed to start.
    private let cleanup: (UnsafeMutablePointer<UVRequest>) -> Void

    init(
        loop: Loop, operation: String, target: String? = nil, context: AnyObject? = nil,
        abandon: @escaping (Value) -> Void = { _ in }, cleanup: @escaping (UnsafeMutablePointer<UVRequest>) -> Void = { _ in }
    ) {
        waiter = Waiter(loop: loop)
        self.operation = operation
        self.target = target
        self.context = context
        self.abandon = abandon
        self.cleanup = cleanup
    }

    /// Issues the request with `start`, which gets the request (its `data` already set) and
    /// returns libuv's status, and waits for its callback.
    ///
    /// Throws `UVError` (the start status, naming `operation` and `target`), what the callback
    /// delivered, or `CancellationError`. `onCancel` gets the request while it is still alive.
    func perform(
        start: (UnsafeMutablePointer<UVRequest>) -> Int32,
        onCancel: @escaping (UnsafeMutablePointer<UVRequest>) -> Void = { _ in }
    ) async throws -> Value {
        let request = UnsafeMutablePointer<UVRequest>.allocate(capacity: 1)
        // Freed here unless the callback owns it: the task was already cancelled, or `start` failed.
        var isPending = false
        defer { if !isPending { request.deallocate() } }
        return try await waiter.wait(
            start: {
                Self.base(request).pointee.data = Unmanaged.passRetained(self).toOpaque()
                let status = start(request)
                if status < 0 {
                    cleanup(request)
                    Unmanaged.passUnretained(self).release()
                    throw UVError(code: status, operation: operation, target: target)
                }
                // libuv now calls back exactly once (with ECANCELED if the handle closes first).
                isPending = true
            },
            onCancel: { onCancel(request) })
    }

    /// Delivers the outcome from the C callback: `outcome` reads it while `pointer` is valid,
    /// then the request is freed and the task resumed (or the value abandoned if it stopped
    /// waiting).
    static func complete(
        _ pointer: UnsafeMutablePointer<UVRequest>?, _ outcome: (UnsafeMutablePointer<UVRequest>) -> Result<Value, any Error>
    ) {
        // Force-unwrap: libuv passes the request it was started with.
        let request = pointer!
        // Unmanaged: balances the retain in `perform`; nothing else releases it.
        let this = Unmanaged<Request>.fromOpaque(base(request).pointee.data).takeRetainedValue()
        let result = outcome(request)
        this.cleanup(request)
        request.deallocate()
        if this.waiter.isDone {
            if case .success(let value) = result { this.abandon(value) }
        } else {
            this.waiter.resume(result)
        }
    }

    /// Delivers `status`: a `UVError` naming `operation` and `target` when negative, else `value`.
    static func complete(_ pointer: UnsafeMutablePointer<UVRequest>?, status: Int32, value: @autoclosure () -> Value) {
        complete(pointer) { request in
            let this = Unmanaged<Request>.fromOpaque(base(request).pointee.data).takeUnretainedValue()
            return status < 0 ? .failure(UVError(code: status, operation: this.operation, target: this.target)) : .success(value())
        }
    }

    /// The `context` of a pending request; safe on any thread, as `context` never changes and the
    /// request keeps this object alive until its callback.
    static func context(of pointer: UnsafeMutablePointer<UVRequest>) -> AnyObject? {
        Unmanaged<Request>.fromOpaque(base(pointer).pointee.data).takeUnretainedValue().context
    }

    /// Cancels a request queued on libuv's thread pool that has not started (`uv_cancel`); it
    /// then calls back with `ECANCELED`. One already running finishes.
    static func cancelQueued(_ request: UnsafeMutablePointer<UVRequest>) {
        uv_cancel(base(request))
    }

    /// Every libuv request starts with the fields of `uv_req_t`, `data` first.
    private static func base(_ request: UnsafeMutablePointer<UVRequest>) -> UnsafeMutablePointer<uv_req_t> {
        UnsafeMutableRawPointer(request).assumingMemoryBound(to: uv_req_t.self)
    }
}
