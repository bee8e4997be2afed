import CLibUV

#if canImport(Glibc)
    import Glibc
#endif

/// The signal API: catches SIGINT and SIGTERM so a server can stop gracefully — stop accepting,
/// tell its clients, flush what is queued for a bounded time, close, and exit 0.
///
/// The signals are caught from the moment it is made — make it before announcing the port, so a
/// signal sent as soon as the server is up cannot kill it — until ``close()``. The first signal
/// runs the ``onSignal(_:)`` actions and wakes ``wait()``; a second one (Ctrl-C again) cuts
/// ``flush(_:within:)`` short. ``Loop/onShutdownSignal(_:)`` makes one with its action.
///
/// ```swift
/// let server = try TCPListener(host: "0.0.0.0", port: 3000, on: loop)
/// let shutdown = try loop.onShutdownSignal { _ in server.close() }   // ends `connections`
/// defer { shutdown.close() }
/// for try await client in server.connections { clients.append(client); loop.spawn { … } }
/// for client in clients { try? client.write("server shutting down\n") }
/// await shutdown.flush(clients, within: .seconds(3))   // bounded; a second signal ends it
/// for client in clients { client.close() }
/// ```
///
/// Other signals (SIGHUP to reload, say) work the same way: pass them as `signals`.
/// Use it from its loop's tasks only.
public final class GracefulShutdown {
    private let loop: Loop
    private var watchers: [SignalWatcher] = []
    private var waiters: [Int: (count: Int, continuation: UnsafeContinuation<Signal, any Error>)] = [:]
    private var nextWaiterID = 0
    /// Run at the first signal, in the order they were added.
    private var actions: [(Signal) -> Void] = []
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
        if received.count == 1 {
            let actions = self.actions
            self.actions = []
            for action in actions { action(signal) }
        }
        for (id, waiter) in waiters where waiter.count <= received.count {
            waiters[id] = nil
            waiter.continuation.resume(returning: received[waiter.count - 1])
        }
    }

    /// Runs `action` on the loop thread when the first signal arrives (at once if one came
    /// already); a shutdown usually starts by closing the listener there.
    public func onSignal(_ action: @escaping (Signal) -> Void) {
        loop.assertOnLoop("onSignal")
        if let first = received.first {
            action(first)
        } else if !isClosed {
            actions.append(action)
        }
    }

    /// Waits for the first signal and returns it (at once if one came already).
    ///
    /// Throws `CancellationError` if the task is cancelled.
    public func wait() async throws -> Signal {
        try await waitForSignal(number: 1)
    }

    /// Waits until `number` signals have arrived in all, and returns the last of them.
    /// Throws `CancellationError` if the task is cancelled or the shutdown closed. `number`
    /// below 1 counts as 1.
    public func waitForSignal(number: Int) async throws -> Signal {
        loop.assertOnLoop("wait")
        let number = max(1, number)
        if received.count >= number { return received[number - 1] }
        if isClosed { throw CancellationError() }
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
    /// Other tasks may be waiting in `drain()` or `flush()` on these streams meanwhile.
    @discardableResult
    public func flush(_ streams: [Stream], within timeout: Duration) async -> [Stream] {
        loop.assertOnLoop("flush")
        let pending = streams.filter { !$0.isClosed && $0.bufferedWriteCount > 0 }
        guard !pending.isEmpty else { return [] }
        let interruptingSignal = received.count + 1
        // Safe: the child tasks prefer this loop's task executor, so the streams and `self`
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
        actions = []
        let waiting = waiters.values
        waiters = [:]
        for waiter in waiting { waiter.continuation.resume(throwing: CancellationError()) }
    }
}

extension Loop {
    /// Catches SIGINT and SIGTERM from now on, and runs `action` at the first one: the one-line
    /// start of a graceful shutdown. Close the returned ``GracefulShutdown`` when done; use it to
    /// flush clients within a time limit (``GracefulShutdown/flush(_:within:)``).
    ///
    /// ```swift
    /// let server = try TCPListener(host: "0.0.0.0", port: 3000, on: loop)
    /// let shutdown = try loop.onShutdownSignal { _ in server.close() }
    /// defer { shutdown.close() }
    /// for try await client in server.connections { loop.spawn { try await serve(client) } }
    /// ```
    ///
    /// `signals` replaces SIGINT and SIGTERM. Throws `UVError` if they cannot be watched.
    public func onShutdownSignal(
        _ signals: Set<Signal> = [.interrupt, .terminate], _ action: @escaping (Signal) -> Void
    ) throws -> GracefulShutdown {
        let shutdown = try GracefulShutdown(on: self, signals: signals)
        shutdown.onSignal(action)
        return shutdown
    }
}
