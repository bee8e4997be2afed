import CLibUV

/// Several loops, one per thread, for servers that need more than one core.
///
/// Each loop runs `body` with its index; typically every loop opens its own listener on the
/// same address with `reusePort: true`, and the kernel spreads connections among them. Reach a
/// given loop from another thread with ``Loop/execute(_:)`` on ``loops``.
///
/// ```swift
/// try LoopGroup.run(count: 2) { loop, index in
///     let server = try TCPListener(host: "0.0.0.0", port: 3001, reusePort: true, on: loop)
///     for try await client in server.connections {
///         loop.spawn { try await echo(client) }
///     }
/// }
/// ```
public enum LoopGroup {
    /// Runs `count` loops — `count - 1` on new threads and one on the calling thread — each with
    /// `body(loop, index)`, until every body has returned; rethrows the first error.
    @available(*, noasync, message: "LoopGroup.run blocks its thread; call it from synchronous code")
    public static func run(count: Int, _ body: @escaping @Sendable (Loop, Int) async throws -> Void) throws {
        precondition(count > 0, "LoopGroup.run needs a count of 1 or more loops (one per core is typical); got \(count)")
        let outcomes = GroupOutcomes(count: count)
        var threads: [pthread_t] = []
        for index in 1..<count {
            let start = ThreadStart {
                outcomes.record(index, Result { try Loop.run { loop in try await body(loop, index) } })
            }
            var thread = pthread_t()
            let status = pthread_create(
                &thread, nil,
                { argument in
                    // Balances the retain taken before pthread_create.
                    Unmanaged<ThreadStart>.fromOpaque(argument!).takeRetainedValue().body()
                    return nil
                }, Unmanaged.passRetained(start).toOpaque())
            if status != 0 {
                Unmanaged.passUnretained(start).release()
                outcomes.record(index, .failure(UVError(code: -status, operation: "start loop thread")))
            } else {
                threads.append(thread)
            }
        }
        outcomes.record(0, Result { try Loop.run { loop in try await body(loop, 0) } })
        for thread in threads { pthread_join(thread, nil) }
        try outcomes.firstError()
    }
}

/// What each loop of a group ended with; written by each loop's thread once, read after joins.
private final class GroupOutcomes: @unchecked Sendable {
    // @unchecked Sendable: guarded by `lock`.
    private var results: [Result<Void, any Error>?]
    private let lock = PthreadMutex()

    init(count: Int) { results = Array(repeating: nil, count: count) }

    func record(_ index: Int, _ result: Result<Void, any Error>) {
        lock.withLock { results[index] = result }
    }

    func firstError() throws {
        try lock.withLock {
            for case .failure(let error) in results.compactMap({ $0 }) { throw error }
        }
    }
}

/// A plain pthread mutex (the group's bookkeeping runs outside any loop).
private final class PthreadMutex: @unchecked Sendable {
    // @unchecked Sendable: a mutex exists to be shared between threads.
    private var mutex = pthread_mutex_t()
    init() { pthread_mutex_init(&mutex, nil) }
    deinit { pthread_mutex_destroy(&mutex) }
    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return try body()
    }
}
