/// Thrown by ``Stream/write(_:queueLimit:)`` when the bytes would take the stream's outbound
/// queue over its limit: the peer is not reading fast enough. Nothing was queued.
public struct WriteQueueFullError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The limit, in bytes.
    public let limit: Int
    /// The bytes already queued (written but not yet accepted by the kernel).
    public let queued: Int
    /// Creates the error for a queue holding `queued` bytes under a limit of `limit`.
    public init(limit: Int, queued: Int) {
        self.limit = limit
        self.queued = queued
    }
    public var description: String { "outbound queue full: \(queued) bytes waiting, limit \(limit)" }
}

extension Stream {
    /// Queues `bytes` like ``write(_:)``, unless the outbound queue would then hold more
    /// than `queueLimit` bytes; then it throws ``WriteQueueFullError`` and queues nothing.
    ///
    /// This bounds what one slow reader can cost a server that writes to many peers without
    /// waiting for each (a chat room, a pub/sub fan-out): ``write(_:)`` never blocks, so
    /// a peer that stops reading would otherwise make its queue grow without end. The queue
    /// counted is ``bufferedWriteCount``: bytes the kernel has not taken yet, so the limit is on
    /// top of the socket's own buffer. Usually the caller then closes the stream.
    ///
    /// ```swift
    /// for peer in peers where peer !== sender {
    ///     do { try peer.write(line, queueLimit: 1 << 20) } catch is WriteQueueFullError { peer.close() }
    /// }
    /// ```
    ///
    /// Also throws what ``write(_:)`` throws (a closed or failed stream).
    public func write(_ bytes: Bytes, queueLimit: Int) throws {
        let queued = bufferedWriteCount
        if queued + bytes.count > queueLimit { throw WriteQueueFullError(limit: queueLimit, queued: queued) }
        try write(bytes)
    }
}
