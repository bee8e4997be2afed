/// A bounded first-in first-out channel between tasks of one loop.
///
/// `send` waits while the channel is full; `receive` waits while it is empty. After `close()`,
/// receivers drain what is buffered and then get `nil`; senders get ``ChannelClosedError``.
/// Elements need not be `Sendable`: every task involved runs on the same loop thread.
///
/// ```swift
/// let jobs = Channel<String>(capacity: 16, on: loop)
/// loop.spawn {
///     for try await job in jobs { print("working on", job) }
/// }
/// try await jobs.send("first")
/// jobs.close()
/// ```
public final class Channel<Element>: AsyncSequence {
    public typealias Failure = any Error

    /// The most elements held before `send` waits.
    public let capacity: Int
    private var buffer = FIFO<Element>()
    private let receivers: WaitQueue<Element?>
    private let senders: WaitQueue<Void>
    /// True once ``close()`` was called.
    public private(set) var isClosed = false

    /// Creates a channel that holds up to `capacity` elements (0 makes every send wait for a
    /// receiver). A negative capacity is a programming error and traps.
    public init(capacity: Int, on loop: Loop) {
        precondition(capacity >= 0, "Channel capacity must be 0 (each send waits for a receiver) or more; got \(capacity)")
        self.capacity = capacity
        receivers = WaitQueue(loop: loop)
        senders = WaitQueue(loop: loop)
    }

    /// The number of buffered elements.
    public var count: Int { buffer.count }

    /// Sends `element`, waiting while the channel is full.
    ///
    /// Throws ``ChannelClosedError`` if the channel is or becomes closed, `CancellationError` if
    /// the task is cancelled while waiting (the element is then not sent).
    public func send(_ element: Element) async throws {
        while true {
            if isClosed { throw ChannelClosedError() }
            if receivers.resumeFirst(with: .success(element)) { return }
            if count < capacity {
                buffer.append(element)
                return
            }
            try await senders.wait()
        }
    }

    /// Sends without waiting; returns false if the channel is full or closed.
    @discardableResult
    public func trySend(_ element: Element) -> Bool {
        if isClosed { return false }
        if receivers.resumeFirst(with: .success(element)) { return true }
        guard count < capacity else { return false }
        buffer.append(element)
        return true
    }

    /// Receives the next element, waiting while the channel is empty; `nil` once it is closed and
    /// drained. Throws `CancellationError` if the task is cancelled while waiting.
    public func receive() async throws -> Element? {
        if let element = takeBuffered() { return element }
        if isClosed { return nil }
        // A sender waiting on a zero-capacity channel can hand over directly.
        senders.resumeFirst(with: .success(()))
        return try await receivers.wait()
    }

    private func takeBuffered() -> Element? {
        guard let element = buffer.popFirst() else { return nil }
        senders.resumeFirst(with: .success(()))
        return element
    }

    /// Closes the channel: waiting receivers get `nil` once the buffer is empty, waiting and later
    /// senders get ``ChannelClosedError``. Calling it twice is harmless.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        receivers.resumeAll(with: .success(nil))
        senders.resumeAll(with: .failure(ChannelClosedError()))
    }

    public func makeAsyncIterator() -> Iterator { Iterator(channel: self) }

    /// Receives elements until the channel is closed and drained.
    public struct Iterator: AsyncIteratorProtocol {
        let channel: Channel
        public mutating func next() async throws -> Element? { try await channel.receive() }
    }
}

/// Thrown by ``Channel/send(_:)`` on a closed channel.
public struct ChannelClosedError: Error, Sendable, CustomStringConvertible {
    /// Creates the error.
    public init() {}
    public var description: String { "send on a closed channel" }
}
