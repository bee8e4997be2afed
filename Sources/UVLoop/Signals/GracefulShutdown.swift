import CLibUV

#if canImport(Glibc)
    import Glibc
#endif

/// Catches SIGINT and SIGTERM so a server can stop gracefully: stop accepting, tell its clients,
/// flush what is queued for a bounded time, close, and exit 0.
///
/// The signals are caught from the moment it is made — make it before announcing the port, so a
/// signal sent as soon as the server is up cannot kill it — until ``close()``. The first signal
/// wakes ``wait()``; a second one (Ctrl-C again) cuts ``flush(_:within:)`` short.
///
/// ```swift
/// let shutdown = try GracefulShutdown(on: loop)
/// defer { shutdown.close() }
/// let server = try TCPListener(host: "0.0.0.0", port: 3000, on: loop)
/// loop.spawn {
///     _ = try await shutdown.wait()
///     server.close()                                   // accept() throws: stop accepting
/// }
/// while let client = try? await server.accept() { clients.append(client); loop.spawn { … } }
/// for client in clients { try? client.write("server shutting down\n") }
/// await shutdown.flush(clients, within: .seconds(3))   // bounded; a second signal ends it
/// for client in clients { client.close() }
/// ```
///
/// Use it from its loop's tasks only.
public final class GracefulShutdown {
    private let loop: Loop
    private var watchers: [SignalWatcher] = []
    private var waiters: [Int: (count: Int, continuation: UnsafeContinuation<Signal, any Error>)] = [:]
    private var nextWaiterID = 0
    /// The signals received so far (and ``trigger(_:)`` calls), oldest first.
    public private(set) var received: [Signal] = []
    /// True once ``close()`` was called.
    public private(set) var isClosed = false

    /// Starts catching `signals` at once; while caught they no longer end the process.
    ///
    /// Throws `UVError` if a signal cannot be watched.
    public init(on loop: Loop, signals: Set<Signal> = [.interrupt, .terminate]) throws {
        loop.assertOnLoop("GracefulShutdown")
        self.loop = loop
        do {
            for signal in signals.sorted(by: { $0.number < $1.number }) {
                watchers.append(try SignalWatcher(loop: loop, signal: signal) { [weak self] in self?.trigger($0) })
            }
        } catch {
            close()
            throw error
        }
    }

    /// Records `signal` as if the process had received it, waking the tasks it satisfies.
    ///
    /// For a shutdown asked for another way (an admin command, a test).
    public func trigger(_ signal: Signal = .terminate) {
        loop.assertOnLoop("trigger")
        received.append(signal)
        for (id, waiter) in waiters where waiter.count <= received.count {
            waiters[id] = nil
            waiter.continuation.resume(returning: received[waiter.count - 1])
        }
    }

    /// Waits for the first signal and returns it (at once if one came already).
    ///
    /// Throws `CancellationError` if the task is cancelled.
    public func wait() async throws -> Signal {
        try await waitForSignal(number: 1)
    }

    /// Waits until `number` signals have arrived in all, and returns the last of them.
    public func waitForSignal(number: Int) async throws -> Signal {
        loop.assertOnLoop("wait")
        precondition(number >= 1, "signals are counted from 1")
        if received.count >= number { return received[number - 1] }
        let id = nextWaiterID
        nextWaiterID += 1
        let this = UnsafeTransfer(self)
        return try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Signal, any Error>) in
                if Task.isCancelled {
                    continuation.resume(throwing: CancellationError())
                } else {
                    waiters[id] = (number, continuation)
                }
            }
        } onCancel: {
            // Safe: `self` is touched only after the hop to its loop's thread.
            this.value.loop.onLoopThread { this.value.waiters.removeValue(forKey: id)?.continuation.resume(throwing: CancellationError()) }
        }
    }

    /// Waits until each of `streams` has handed its queued bytes to the kernel, for at most
    /// `timeout`, and less if another signal arrives meanwhile; returns the streams that still
    /// had bytes queued (an empty array when everything was written).
    ///
    /// No other task may be waiting in `drain()` or `flush()` on these streams.
    @discardableResult
    public func flush(_ streams: [Stream], within timeout: Duration) async -> [Stream] {
        loop.assertOnLoop("flush")
        let pending = streams.filter { !$0.isClosed && $0.bufferedWriteCount > 0 }
        guard !pending.isEmpty else { return [] }
        let interruptingSignal = received.count + 1
        // Safe: the child tasks prefer this loop's serial executor, so the streams and `self`
        // are used on the loop thread only, and every child ends before the group returns.
        let this = UnsafeTransfer(self)
        let executor = loop.executor
        _ = try? await loop.withTimeout(timeout) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for stream in pending {
                    let stream = UnsafeTransfer(stream)
                    group.addTask(executorPreference: executor) { try? await stream.value.flush() }
                }
                group.addTask(executorPreference: executor) {
                    _ = try await this.value.waitForSignal(number: interruptingSignal)
                    throw CancellationError()
                }
                for _ in pending { try await group.next() }
                group.cancelAll()
            }
        }
        return pending.filter { !$0.isClosed && $0.bufferedWriteCount > 0 }
    }

    /// Stops catching the signals; waiting tasks get `CancellationError`. Calling it twice is
    /// harmless.
    ///
    /// The signals get their default effect back (SIGINT and SIGTERM end the process), unless
    /// `ignoringSignals` is true: then they are ignored from now on — what a server that is
    /// already shutting down wants, so that another Ctrl-C cannot kill it on its way out.
    public func close(ignoringSignals: Bool = false) {
        guard !isClosed else { return }
        isClosed = true
        for watcher in watchers { watcher.close() }
        // After the watchers: libuv restores the default disposition when the last one stops.
        if ignoringSignals {
            for watcher in watchers { _ = signal(watcher.signal.number, SIG_IGN) }
        }
        watchers = []
        let waiting = waiters.values
        waiters = [:]
        for waiter in waiting { waiter.continuation.resume(throwing: CancellationError()) }
    }
}
