extension Loop {
    /// A repeating timer as an `AsyncSequence`: yields 1, 2, 3, … every `interval`.
    ///
    /// The timer starts when iteration begins and is closed when it ends (`break`, an error,
    /// cancellation). A consumer slower than `interval` does not get a backlog: it gets the
    /// latest tick, and the numbers skip the ones it missed (each number counts the intervals
    /// since the start). Cancelling the task ends the iteration with `CancellationError` at once.
    ///
    /// ```swift
    /// for try await tick in loop.ticks(every: .seconds(1)) {
    ///     print("tick \(tick)")
    ///     if tick == 5 { break }
    /// }
    /// ```
    public func ticks(every interval: Duration) -> Ticks {
        Ticks(loop: self, interval: interval)
    }

    /// Runs `body`, cancelling it and throwing ``TimeoutError`` if it has not finished by
    /// `deadline`; see ``withTimeout(_:name:_:)``, whose `name` this passes on. A deadline
    /// already past cancels `body` at its first wait.
    ///
    /// ```swift
    /// let deadline = ContinuousClock.now + .seconds(10)
    /// let greeting = try await loop.withDeadline(deadline) { try await client.readLine() }
    /// let request = try await loop.withDeadline(deadline) { try await client.readLine() }
    /// ```
    public func withDeadline<T>(
        _ deadline: ContinuousClock.Instant, name: String? = nil, _ body: () async throws -> T
    ) async throws -> T {
        try await withTimeout(max(.zero, deadline - .now), name: name, body)
    }
}

/// The ticks of a repeating timer; see ``Loop/ticks(every:)``.
public struct Ticks: AsyncSequence {
    public typealias Element = Int
    public typealias Failure = any Error
    let loop: Loop
    let interval: Duration

    /// Starts the timer.
    public func makeAsyncIterator() -> Iterator { Iterator(loop: loop, interval: interval) }

    /// Waits for the next tick on each call; closes the timer when released.
    public struct Iterator: AsyncIteratorProtocol {
        private let buffer: EventBuffer<Int>
        private let closer: ClosesOnRelease

        init(loop: Loop, interval: Duration) {
            let buffer = EventBuffer<Int>(loop: loop, limit: 1, keepsLatest: true)
            var count = 0
            let timer = LoopTimer(loop: loop) {
                count += 1
                buffer.push(count)
            }
            timer.start(after: interval, repeating: Swift.max(interval, .milliseconds(1)))
            self.buffer = buffer
            closer = ClosesOnRelease(loop: loop) { timer.close() }
        }

        /// The next tick's number; throws `CancellationError` if the task is cancelled.
        public mutating func next() async throws -> Int? {
            try await buffer.next()
        }
    }
}
