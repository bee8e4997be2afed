extension Stream {
    /// Writes `bytes` to every stream of `streams` but `sender`, each under `queueLimit` as
    /// ``write(_:queueLimit:)`` would, and calls `overLimit` for each stream whose backlog is
    /// over it (the caller usually closes it). Streams closed or failed are skipped.
    ///
    /// The fan-out of a chat room or a pub/sub server: the bytes are shared, not copied, and
    /// the loop thread is checked once rather than per recipient, so each recipient costs a
    /// queue append.
    ///
    /// ```swift
    /// Stream.broadcast(line, to: room, except: sender, queueLimit: 1 << 20) { slow in slow.close() }
    /// ```
    public static func broadcast<S: Stream>(
        _ bytes: Bytes, to streams: [S], except sender: S?, queueLimit: Int, overLimit: (S) -> Void
    ) {
        guard bytes.count > 0 else { return }
        let skipped = sender.map { ObjectIdentifier($0) }
        var overLimitStreams: [Stream] = []
        // The queues borrow the bytes from the loop, which takes one reference for all the
        // recipients at the end (the caller's `bytes` keeps the storage alive meanwhile).
        var recipients = 0
        streams.withUnsafeBufferPointer { typed in
            guard let base = typed.baseAddress, typed.count > 0 else { return }
            // `S` is a class, so its references have `Stream`'s layout: walking them as `Stream`
            // keeps the loop free of generic calls.
            let all = UnsafeRawPointer(base).assumingMemoryBound(to: Stream.self)
            all[0].loop.assertOnLoop("broadcast")
            for index in 0..<typed.count {
                // Unmanaged: `streams` holds every element for the whole call, so the stream
                // needs no retain of its own while its queue is appended to.
                let isOverLimit = Unmanaged.passUnretained(all[index])._withUnsafeGuaranteedRef { stream -> Bool in
                    guard ObjectIdentifier(stream) != skipped, stream.isWritable else { return false }
                    stream.enqueue(borrowing: bytes)
                    recipients += 1
                    return stream.kernelBacklog > queueLimit
                }
                if isOverLimit { overLimitStreams.append(all[index]) }
            }
        }
        if recipients > 0 { streams[0].loop.holdUntilFlushed(bytes.storage) }
        for stream in overLimitStreams { overLimit(unsafeDowncast(stream, to: S.self)) }
    }
}

extension Stream {
    /// ``broadcast(_:to:except:queueLimit:overLimit:)`` for a fan-out of another module of the
    /// package over objects that carry a stream (`WebSocket.broadcast`: a server's sockets share
    /// one frame of a message): writes `bytes` to each stream of `streams` (`nil` ones are
    /// skipped), and calls `overLimit` with the index of each whose backlog is over `queueLimit`.
    ///
    /// The streams come unretained: the caller keeps each alive for the whole call.
    package static func broadcast(
        _ bytes: Bytes, toUnretained streams: UnsafeBufferPointer<Unmanaged<Stream>?>, queueLimit: Int, overLimit: (Int) -> Void
    ) {
        guard bytes.count > 0 else { return }
        var overLimitIndices: [Int] = []
        // Unmanaged: the first stream written to, one of `streams`, which the caller keeps alive.
        var holder: Unmanaged<Stream>?
        for index in streams.indices {
            guard let target = streams[index] else { continue }
            let isOverLimit = target._withUnsafeGuaranteedRef { stream -> Bool in
                guard stream.isWritable else { return false }
                if holder == nil {
                    stream.loop.assertOnLoop("broadcast")
                    holder = target
                }
                stream.enqueue(borrowing: bytes)
                return stream.kernelBacklog > queueLimit
            }
            if isOverLimit { overLimitIndices.append(index) }
        }
        // As above: one reference for every queue that borrowed the bytes.
        holder?._withUnsafeGuaranteedRef { $0.loop.holdUntilFlushed(bytes.storage) }
        for index in overLimitIndices { overLimit(index) }
    }
}
