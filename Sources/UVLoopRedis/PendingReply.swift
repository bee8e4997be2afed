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

    /// True once a reply or failure was handed over.
    var isFulfilled: Bool { result != nil }

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
