import CLibUV

/// Thrown by ``Stream/write(_:queueLimit:)`` when the peer has fallen too far behind: more than
/// the limit is still waiting for the kernel to take it.
public struct WriteQueueFullError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The limit, in bytes.
    public let limit: Int
    /// The bytes waiting for the kernel when the limit was found exceeded.
    public let queued: Int
    /// Creates the error for a stream with `queued` bytes waiting under a limit of `limit`.
    public init(limit: Int, queued: Int) {
        self.limit = limit
        self.queued = queued
    }
    public var description: String { "outbound queue over its limit: \(queued) bytes waiting, limit \(limit)" }
}

extension Stream {
    /// Queues `bytes` like ``write(_:)``, then throws ``WriteQueueFullError`` if more than
    /// `queueLimit` bytes written in earlier loop iterations are still waiting for the kernel to
    /// take them — the peer is not reading. The caller usually closes the stream then (which
    /// drops what is queued).
    ///
    /// This bounds what one slow reader can cost a server that writes to many peers without
    /// waiting for each (a chat room, a pub/sub fan-out): ``write(_:)`` never blocks, so a peer
    /// that stops reading would otherwise make its queue grow without end. The limit comes on
    /// top of the socket's own buffer, and a stream can exceed it by what is written to it in
    /// one loop iteration before the check catches it — the check reads the backlog libuv
    /// holds, which costs one call and no locking, so it can run on every write of a fan-out.
    ///
    /// ```swift
    /// for peer in peers where peer !== sender {
    ///     do { try peer.write(line, queueLimit: 1 << 20) } catch is WriteQueueFullError { peer.close() }
    /// }
    /// ```
    ///
    /// Also throws what ``write(_:)`` throws (a closed or failed stream).
    public func write(_ bytes: Bytes, queueLimit: Int) throws {
        try write(bytes)
        // The write succeeded, so the stream is open and its handle valid.
        let backlog = kernelBacklog
        if backlog > queueLimit { throw WriteQueueFullError(limit: queueLimit, queued: backlog) }
    }
}
