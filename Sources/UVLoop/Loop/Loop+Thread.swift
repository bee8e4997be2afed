import CLibUV

extension Loop {
    /// Runs a new loop on a new thread until `body` returns, and awaits its result from any
    /// async context — the way to use loops from tests, from Swift's concurrency runtime, or to
    /// run several loops side by side.
    ///
    /// ```swift
    /// let port = try await Loop.runOnNewThread { loop in
    ///     let server = try TCPListener(host: "127.0.0.1", port: 0, on: loop)
    ///     defer { server.close() }
    ///     return server.port
    /// }
    /// ```
    public static func runOnNewThread<T: Sendable>(
        _ body: @escaping @Sendable (Loop) async throws -> T
    ) async throws -> T {
        try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<T, any Error>) in
            let start = ThreadStart {
                continuation.resume(with: Result { try Loop.run(body) })
            }
            var thread = pthread_t()
            let status = pthread_create(
                &thread, nil,
                { argument in
                    // Balances the retain taken before pthread_create.
                    let start = Unmanaged<ThreadStart>.fromOpaque(argument!).takeRetainedValue()
                    start.body()
                    return nil
                }, Unmanaged.passRetained(start).toOpaque())
            if status != 0 {
                Unmanaged.passUnretained(start).release()
                continuation.resume(throwing: UVError(code: -status, operation: "start loop thread"))
            } else {
                pthread_detach(thread)
            }
        }
    }
}

/// What a new thread runs; handed over through `pthread_create`'s argument.
final class ThreadStart: @unchecked Sendable {
    // @unchecked Sendable: created before the thread starts and used only by that thread.
    let body: () -> Void
    init(_ body: @escaping () -> Void) { self.body = body }
}
