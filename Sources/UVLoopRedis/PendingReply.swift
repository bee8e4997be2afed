import UVLoop

/// A command's place in a connection's reply order: filled by the reader when its reply
/// arrives, awaited by the sender. Loop thread only.
///
/// A sender that stops waiting (timeout, cancellation) leaves it in the queue, so its reply is
/// still consumed in order and then dropped.
final class PendingReply {
    private var result: Result<RESPValue, RedisError>?
    private let ready: Event

    init(loop: Loop) { ready = Event(on: loop) }

    /// Hands over the reply or the connection's failure; only the first call counts.
    func fulfil(_ result: Result<RESPValue, RedisError>) {
        guard self.result == nil else { return }
        self.result = result
        ready.set()
    }

    /// Waits for the reply. Throws what `fulfil` was given, or `CancellationError`.
    func wait() async throws -> RESPValue {
        try await ready.wait()
        // Force-unwrap: the event is set only by `fulfil`, after it stored the result.
        return try result!.get()
    }
}

/// A first-in first-out queue of pending replies with O(1) removal from the front.
struct ReplyQueue {
    private var entries: [PendingReply?] = []
    private var head = 0

    var isEmpty: Bool { head == entries.count }
    var count: Int { entries.count - head }

    mutating func append(_ reply: PendingReply) { entries.append(reply) }

    mutating func popFirst() -> PendingReply? {
        guard head < entries.count else { return nil }
        let first = entries[head]
        entries[head] = nil
        head += 1
        if head == entries.count {
            entries.removeAll(keepingCapacity: entries.count <= 4096)
            head = 0
        } else if head >= 1024 && head * 2 >= entries.count {
            entries.removeFirst(head)
            head = 0
        }
        return first
    }
}
