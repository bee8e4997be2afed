extension Loop {
    /// The signals of `set` the process receives, as an `AsyncSequence`.
    ///
    /// The handlers are installed when iteration begins — from then on those signals no longer
    /// have their default effect — and removed when it ends (`break`, an error, cancellation).
    /// Up to 64 signals are held for a slow consumer; more are dropped. Throws `UVError` from
    /// the first `next()` if a handler could not be installed.
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
        private let buffer: EventBuffer<Signal>
        private let closer: ClosesOnRelease
        private var failure: UVError?

        init(loop: Loop, signals: Set<Signal>) {
            loop.assertOnLoop("signals")
            let buffer = EventBuffer<Signal>(loop: loop, limit: 64, keepsLatest: false)
            var watchers: [SignalWatcher] = []
            do {
                for signal in signals.sorted(by: { $0.number < $1.number }) {
                    watchers.append(try SignalWatcher(loop: loop, signal: signal) { buffer.push($0) })
                }
            } catch {
                failure = error
            }
            self.buffer = buffer
            closer = ClosesOnRelease(loop: loop) { for watcher in watchers { watcher.close() } }
        }

        /// The next signal; throws `CancellationError` if the task is cancelled.
        public mutating func next() async throws -> Signal? {
            if let failure { throw failure }
            return try await buffer.next()
        }
    }
}
