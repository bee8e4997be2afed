import CLibUV

/// The thread-specific slot that holds the loop running on each thread.
private let currentLoopKey: pthread_key_t = {
    var key = pthread_key_t()
    let status = pthread_key_create(&key, nil)
    precondition(status == 0, "UVLoop: pthread_key_create failed (\(status))")
    return key
}()

extension Loop {
    /// The loop running on the calling thread, or `nil` on a thread that runs none.
    ///
    /// Lets code deep in a call chain reach its loop without passing it along, like eventlet's
    /// `get_hub()`:
    ///
    /// ```swift
    /// func logLater(_ message: String) {
    ///     guard let loop = Loop.current else { return }
    ///     loop.spawn { try await loop.sleep(for: .seconds(1)); print(message) }
    /// }
    /// ```
    public static var current: Loop? {
        guard let pointer = pthread_getspecific(currentLoopKey) else { return nil }
        // Unmanaged: `run` sets the slot while the loop runs on this thread and clears it
        // before the loop can be released, so the pointer is a live loop.
        return Unmanaged<Loop>.fromOpaque(pointer).takeUnretainedValue()
    }

    /// The current loop, for code that runs only on a loop thread (a spawned task's end).
    static var onLoopThread: Loop {
        // Force-unwrap: callers run as jobs of a loop's executor, on that loop's thread.
        current!
    }

    /// Makes `loop` (or none) the calling thread's current loop.
    static func setCurrent(_ loop: Loop?) {
        pthread_setspecific(currentLoopKey, loop.map { Unmanaged.passUnretained($0).toOpaque() })
    }
}
