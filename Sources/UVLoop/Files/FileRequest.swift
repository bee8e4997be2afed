import CLibUV

/// One `uv_fs_*` request seen from its callback, without knowing its result type (a class, so
/// that the C callback can recover it from the request's `data`).
class FileRequest {
    /// Delivers the outcome; called on the loop thread, before the request is cleaned up.
    func complete(_ request: UnsafeMutablePointer<uv_fs_t>) {}
}

/// A file-system request whose result is a `T`.
final class TypedFileRequest<T>: FileRequest {
    let waiter: Waiter<T>
    private let operation: String
    private let target: String
    /// Reads the result out of a request that succeeded.
    private let extract: (UnsafeMutablePointer<uv_fs_t>) -> T
    /// Undoes a result that arrived after its caller stopped waiting (closes an opened file).
    private let abandon: (T) -> Void
    /// Keeps a read or write buffer alive until the callback, which may come after cancellation.
    let buffer: AnyObject?

    init(
        loop: Loop, operation: String, target: String, buffer: AnyObject?,
        extract: @escaping (UnsafeMutablePointer<uv_fs_t>) -> T, abandon: @escaping (T) -> Void
    ) {
        waiter = Waiter(loop: loop)
        self.operation = operation
        self.target = target
        self.buffer = buffer
        self.extract = extract
        self.abandon = abandon
    }

    override func complete(_ request: UnsafeMutablePointer<uv_fs_t>) {
        let result = uv_fs_get_result(request)
        if result < 0 {
            waiter.resume(.failure(UVError(code: Int32(result), operation: operation, target: target)))
            return
        }
        let value = extract(request)
        if waiter.isDone {
            abandon(value)
        } else {
            waiter.resume(.success(value))
        }
    }
}

extension Loop {
    /// Runs one `uv_fs_*` request in callback form and waits for it.
    ///
    /// `start` issues the request with the callback it is given. Cancelling the task cancels a
    /// request that has not started (`uv_cancel`); one already running finishes on the pool and
    /// its result is discarded — through `abandon`, which must release what it holds.
    func fileRequest<T>(
        _ operation: String, _ target: String, buffer: AnyObject? = nil,
        extract: @escaping (UnsafeMutablePointer<uv_fs_t>) -> T,
        abandon: @escaping (T) -> Void = { _ in },
        start: (UnsafeMutablePointer<uv_fs_t>, uv_fs_cb) -> Int32
    ) async throws -> T {
        assertOnLoop(operation)
        let state = TypedFileRequest(loop: self, operation: operation, target: target, buffer: buffer, extract: extract, abandon: abandon)
        let request = UnsafeMutablePointer<uv_fs_t>.allocate(capacity: 1)
        // Freed here if the wait ends before `start` runs (the task was already cancelled).
        var started = false
        defer { if !started { request.deallocate() } }
        return try await state.waiter.wait(
            start: {
                started = true
                // Retained until the callback, which libuv always calls (with ECANCELED if cancelled).
                request.pointee.data = Unmanaged.passRetained(state as FileRequest).toOpaque()
                let status = start(request) { request in
                    let state = Unmanaged<FileRequest>.fromOpaque(request!.pointee.data).takeRetainedValue()
                    state.complete(request!)
                    uv_fs_req_cleanup(request)
                    request!.deallocate()
                }
                if status < 0 {
                    // A request that fails to start never calls back.
                    Unmanaged.passUnretained(state as FileRequest).release()
                    uv_fs_req_cleanup(request)
                    request.deallocate()
                    throw UVError(code: status, operation: operation, target: target)
                }
            },
            onCancel: { uv_cancel(UnsafeMutableRawPointer(request).assumingMemoryBound(to: uv_req_t.self)) })
    }
}
