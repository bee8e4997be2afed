import UVLoop

extension WebSocket {
    /// Queues `message` on every socket of `sockets` but `sender` without waiting, each under
    /// `queueLimit`, and calls `overLimit` for each socket found over it (the caller usually
    /// closes it). Sockets no longer open are skipped.
    ///
    /// The fan-out of a chat room or a pub/sub topic. A server socket without compression over
    /// a `Stream` (TCP, a Unix socket) takes the message's one shared frame the way
    /// `Stream.broadcast` gives a line to many streams: a queue append each, and one reference
    /// to the frame for all; its bound is `Stream.broadcast`'s (bytes written in earlier loop
    /// iterations still waiting for the kernel). The others (compression agreed, TLS) frame the
    /// message themselves, as ``enqueue(_:queueLimit:)`` does, under its bound.
    ///
    /// ```swift
    /// let message = WebSocket.PreparedMessage(text: "hello, room")
    /// WebSocket.broadcast(message, to: sockets, except: nil, queueLimit: 1 << 20) { slow in
    ///     loop.spawn { await slow.close(code: .policyViolation) }
    /// }
    /// ```
    public static func broadcast(
        _ message: PreparedMessage, to sockets: [WebSocket], except sender: WebSocket?, queueLimit: Int,
        overLimit: (WebSocket) -> Void
    ) {
        guard !sockets.isEmpty else { return }
        // Neither array allocates while empty: the usual room of plain browsers reading along.
        var framingOwn: [WebSocket] = []
        var overLimitSockets: [WebSocket] = []
        // The shared-frame stream of each socket, by the socket's index (`nil`: skipped); on the
        // stack for a room of up to ~100 browsers, so a line costs no allocation here.
        withUnsafeTemporaryAllocation(of: Unmanaged<Stream>?.self, capacity: sockets.count) { streams in
            sockets.withUnsafeBufferPointer { all in
                for index in all.indices {
                    // Unmanaged: `sockets` holds every socket for the whole call.
                    let shared = Unmanaged.passUnretained(all[index])._withUnsafeGuaranteedRef { socket -> Unmanaged<Stream>? in
                        guard socket !== sender, socket.state == .open else { return nil }
                        if let shared = socket.sharedFrameStream { return shared }
                        framingOwn.append(socket)
                        return nil
                    }
                    streams.initializeElement(at: index, to: shared)
                }
            }
            // Each socket holds its stream, and `sockets` each socket, until this returns.
            Stream.broadcast(message.frame, toUnretained: UnsafeBufferPointer(streams), queueLimit: queueLimit) {
                overLimitSockets.append(sockets[$0])
            }
            // `Unmanaged?` is a trivial type: nothing to deinitialize.
        }
        for socket in framingOwn {
            do {
                try socket.enqueue(message, queueLimit: queueLimit)
            } catch is WriteQueueFullError {
                overLimitSockets.append(socket)
            } catch {
                // Closed or failed meanwhile: its receiving task finds out.
            }
        }
        for socket in overLimitSockets { overLimit(socket) }
    }
}
