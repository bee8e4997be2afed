import CLibUV

/// The part of a file request that its C callback reaches without knowing the result type.
class FileOperation {
    /// Reads the result out of a request that succeeded.
    func extract(_ request: UnsafeMutablePointer<uv_fs_t>) -> Any { () }
}

/// A file request whose result is a `T`, and the buffer libuv reads or fills until the callback.
final class TypedFileOperation<T>: FileOperation {
    private let extractValue: (UnsafeMutablePointer<uv_fs_t>) -> T
    /// Kept alive until the callback, which may come after cancellation.
    let buffer: AnyObject?

    init(extract: @escaping (UnsafeMutablePointer<uv_fs_t>) -> T, buffer: AnyObject?) {
        extractValue = extract
        self.buffer = buffer
    }

    override func extract(_ request: UnsafeMutablePointer<uv_fs_t>) -> Any { extractValue(request) }
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
        // Force-casts below: the only values the request produces are `extract`'s, of type T.
        let request = Request<uv_fs_t, Any>(
            loop: self, operation: operation, target: target, context: TypedFileOperation(extract: extract, buffer: buffer),
            abandon: { abandon($0 as! T) }, cleanup: { uv_fs_req_cleanup($0) })
        let value = try await request.perform(
            start: { request in
                start(request) { request in
                    // Force-unwrap: libuv passes the request it was started with. unsafeDowncast:
                    // the context is the TypedFileOperation made above.
                    let operation = unsafeDowncast(Request<uv_fs_t, Any>.context(of: request!)!, to: FileOperation.self)
                    let status = Int32(clamping: uv_fs_get_result(request!))
                    Request<uv_fs_t, Any>.complete(request, status: status, value: operation.extract(request!))
                }
            },
            onCancel: Request<uv_fs_t, Any>.cancelQueued)
        return value as! T
    }
}
