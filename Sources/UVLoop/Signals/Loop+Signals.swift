extension Loop {
    /// The signals of `set` the process receives, as an `AsyncSequence`: a ``GracefulShutdown``
    /// for `set`, iterated (for SIGHUP-to-reload and the like; to stop on SIGINT or SIGTERM, use
    /// ``onShutdownSignal(_:)``).
    ///
    /// The handlers are installed when iteration begins — from then on those signals no longer
    /// have their default effect — and removed when it ends (`break`, an error, cancellation).
    /// Every signal received is held for a slow consumer. Throws `UVError` from the first
    /// `next()` if a handler could not be installed.
    ///
    /// ```swift
    /// loop.spawn {
    ///     for try await signal in loop.signals([.hangup, .user1]) {
    ///         print("got \(signal), reloading")
    ///         try await config.reload()
    ///     }
    /// }
    /// ```
    public func signals(_ set: Set<Signal>) -> Signals {
        Signals(loop: self, signals: set)
    }
}

/// The signals a process receives; see ``Loop/signals(_:)``.
public struct Signals: AsyncSequence {
    public typealias Element = Signal
    public typealias Failure = any Error
    let loop: Loop
    let signals: Set<Signal>

    /// Installs the handlers.
    public func makeAsyncIterator() -> Iterator { Iterator(loop: loop, signals: signals) }

    /// Waits for the next signal on each call; removes the handlers when released.
    public struct Iterator: AsyncIteratorProtocol {
        private let shutdown: Result<GracefulShutdown, any Error>
        private let closer: ClosesOnRelease?
        private var taken = 0

        init(loop: Loop, signals: Set<Signal>) {
            loop.assertOnLoop("signals")
            let shutdown = Result { try GracefulShutdown(on: loop, signals: signals) }
            self.shutdown = shutdown
            closer = (try? shutdown.get()).map { shutdown in ClosesOnRelease(loop: loop) { shutdown.close() } }
        }

        /// The next signal; throws `CancellationError` if the task is cancelled.
        public mutating func next() async throws -> Signal? {
            let signal = try await shutdown.get().waitForSignal(number: taken + 1)
            taken += 1
            return signal
        }
    }
}
