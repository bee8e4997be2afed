import CLibUV

/// Allocates memory for a libuv handle of `type`; freed only by `closeHandle(_:)`'s callback.
func allocateHandle<H>(_ type: uv_handle_type, as: H.Type) -> UnsafeMutablePointer<H> {
    let raw = UnsafeMutableRawPointer.allocate(byteCount: uv_handle_size(type), alignment: 16)
    return raw.bindMemory(to: H.self, capacity: 1)
}

/// The handle pointer as libuv's base type.
func asHandle<H>(_ handle: UnsafeMutablePointer<H>) -> UnsafeMutablePointer<uv_handle_t> {
    UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_handle_t.self)
}

/// Makes `owner` the handle's owner: retained until the close callback, which releases it.
func adopt<H>(_ handle: UnsafeMutablePointer<H>, owner: AnyObject) {
    asHandle(handle).pointee.data = Unmanaged.passRetained(owner).toOpaque()
}

/// The object that owns a handle (set by `adopt`).
func owner<Owner: AnyObject, H>(of handle: UnsafeMutablePointer<H>, as: Owner.Type) -> Owner {
    // Unmanaged: `adopt` retained the owner until the close callback, so it is alive here.
    // The opaque pointer is the object itself, whatever static type it was passed as.
    Unmanaged<Owner>.fromOpaque(asHandle(handle).pointee.data).takeUnretainedValue()
}

/// Calls `body` with the object that owns a handle, without a retain and a release around the
/// call (for the callbacks that run per read).
func withOwner<Owner: AnyObject, H, R>(
    of handle: UnsafeMutablePointer<H>, as: Owner.Type, _ body: (Owner) -> R
) -> R {
    // Unmanaged: as in `owner(of:as:)`; a close during `body` releases the owner only in the
    // close callback, on a later turn of the loop.
    Unmanaged<Owner>.fromOpaque(asHandle(handle).pointee.data)._withUnsafeGuaranteedRef(body)
}

/// Closes a handle; its memory is freed and its owner released in the close callback.
func uvClose<H>(_ handle: UnsafeMutablePointer<H>) {
    let base = asHandle(handle)
    guard uv_is_closing(base) == 0 else { return }
    uv_close(base) { base in
        guard let base else { return }
        let data = base.pointee.data
        UnsafeMutableRawPointer(base).deallocate()
        // Balances the retain taken in `adopt`.
        if let data { Unmanaged<AnyObject>.fromOpaque(data).release() }
    }
}

extension Loop {
    /// Runs `action` on the loop thread: at once if already there, otherwise as a queued job.
    ///
    /// Used by cancellation handlers, which the runtime may call on any thread.
    func onLoopThread(_ action: @escaping @Sendable () -> Void) {
        if isOnLoopThread {
            action()
        } else {
            Task(executorPreference: executor) { action() }
        }
    }
}
