import UVLoop

/// Encrypts what a loop iteration wrote to a context's TLS streams once per stream: the lines a
/// chat room broadcasts in one iteration go to each participant as one `SSL_write`, so they
/// share records (and one record buffer) instead of costing one record each.
///
/// One per ``TLSContext``, which belongs to one loop. The first write of an iteration to a
/// stream puts the stream on the list; the first stream on the list spawns one task, which runs
/// after the tasks already queued on the loop (the other readers of the iteration) and encrypts
/// every listed stream's plaintext.
final class TLSWriteBatcher {
    private var streams: [TLSStream] = []
    private var isScheduled = false

    /// Puts `stream`, which has just got its first pending plaintext, on the list.
    func add(_ stream: TLSStream) {
        streams.append(stream)
        guard !isScheduled else { return }
        isScheduled = true
        stream.loop.spawn { self.encryptAll() }
    }

    private func encryptAll() {
        isScheduled = false
        let listed = streams
        streams = []
        for stream in listed { stream.encryptPending() }
    }
}
