import UVLoop

extension WebSocket {
    /// Queues a text message and returns at once, bounded by `queueLimit`.
    ///
    /// ``send(text:)`` waits while the stream is over its high water mark, which suits a task
    /// that talks to one peer. A task that writes to many peers (a chat room's fan-out) must
    /// not wait for the slowest: it enqueues, and the bound tells it which peer has stopped
    /// reading, as `Stream.write(_:queueLimit:)` does for a byte stream.
    ///
    /// The message is framed (and compressed, if agreed) and queued first; then, if more than
    /// `queueLimit` bytes wait on the stream (``ByteStream/bufferedWriteCount``, this message
    /// included), throws `WriteQueueFullError`. The caller usually closes the socket then.
    /// Throws ``WebSocketError`` (`notOpen`) once closing has begun, and what the stream's
    /// write throws.
    ///
    /// ```swift
    /// for peer in peers {
    ///     do { try peer.enqueue(text: line, queueLimit: 1 << 20) } catch { peer.stream.close() }
    /// }
    /// ```
    public func enqueue(text: String, queueLimit: Int = .max) throws {
        try sendText(text)
        try checkQueue(limit: queueLimit)
    }

    /// Queues a text message given as UTF-8 bytes, as ``enqueue(text:queueLimit:)`` does,
    /// without making a `String` of them. Bytes that are not valid UTF-8 (a text message must be)
    /// are replaced with U+FFFD, as `String(decoding:as:)` does, so the peer never gets a frame
    /// it must refuse with 1007.
    public func enqueue(utf8Text: Bytes, queueLimit: Int = .max) throws {
        try enqueueMessage(.text, WebSocket.validUTF8(utf8Text), queueLimit: queueLimit)
    }

    /// Queues a binary message and returns at once, bounded by `queueLimit` as
    /// ``enqueue(text:queueLimit:)`` is.
    public func enqueue(binary: Bytes, queueLimit: Int = .max) throws {
        try enqueueMessage(.binary, binary, queueLimit: queueLimit)
    }

    private func enqueueMessage(_ opcode: WebSocketOpcode, _ payload: Bytes, queueLimit: Int) throws {
        try sendMessage(opcode, payload)
        try checkQueue(limit: queueLimit)
    }

    /// Throws `WriteQueueFullError` if more than `limit` bytes wait on the stream.
    func checkQueue(limit: Int) throws {
        guard limit < .max else { return }
        let queued = stream.bufferedWriteCount
        if queued > limit { throw WriteQueueFullError(limit: limit, queued: queued) }
    }
}
