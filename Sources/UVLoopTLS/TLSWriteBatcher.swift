import UVLoop
import UVLoopCodecs

/// Encrypts what a loop iteration wrote to a context's TLS streams once per stream: the lines a
/// chat room broadcasts in one iteration go to each participant as one `SSL_write`, so they
/// share one record (and one record buffer) instead of costing one record each.
///
/// One per ``TLSContext``, which belongs to one loop. The pieces written in an iteration, to
/// any of the context's streams, go into one list, each linked to the next piece of the same
/// stream (a stream keeps only the first and last index): appending allocates nothing once the
/// list has grown. The first piece of an iteration for a stream puts the stream on the list of
/// streams; the first stream asks the loop to run ``encryptAll()`` before it flushes the
/// iteration's writes (``Loop/runBeforeFlush(_:)``: no task), which gathers each stream's
/// pieces into one reused buffer and encrypts them with one `SSL_write`.
final class TLSWriteBatcher {
    // @exclusivity(unchecked): loop thread only, and no access spans a call that could reach
    // the same property again (`encryptAll` swaps the stream list out first).
    @exclusivity(unchecked) private var streams: [TLSStream] = []
    @exclusivity(unchecked) private var pieces: [Bytes] = []
    /// For each piece, the index of the next piece of the same stream, or -1.
    @exclusivity(unchecked) private var nextPiece: [Int32] = []
    @exclusivity(unchecked) private var isScheduled = false
    /// Where a stream's pieces are gathered for `SSL_write` (at most `TLSStream.writeSlice`).
    @exclusivity(unchecked) private var gather: UnsafeMutableRawPointer?
    @exclusivity(unchecked) private var gatherCapacity = 0
    /// Made once, so scheduling allocates nothing. Unowned: it is handed to the loop only while
    /// `streams` is not empty, and each listed stream holds this batcher (`TLSStream.batcher`).
    private lazy var action: () -> Void = { [unowned self] in self.encryptAll() }

    deinit { gather?.deallocate() }

    /// Queues `bytes` (not empty) after `stream`'s pending pieces.
    func append(_ bytes: Bytes, to stream: TLSStream) {
        let index = Int32(pieces.count)
        pieces.append(bytes)
        nextPiece.append(-1)
        if stream.lastPiece >= 0 {
            nextPiece[Int(stream.lastPiece)] = index
        } else {
            stream.firstPiece = index
            list(stream)
        }
        stream.lastPiece = index
    }

    /// Calls `body` with `stream`'s pending pieces as one buffer (valid during the call), then
    /// forgets them. A single piece is passed as it is; several are copied into one buffer.
    func takePending(of stream: TLSStream, _ body: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        let first = Int(stream.firstPiece)
        guard first >= 0 else { return }
        let count = stream.pendingCount
        stream.firstPiece = -1
        stream.lastPiece = -1
        if nextPiece[first] < 0 {
            try pieces[first].withUnsafeBytes(body)
            return
        }
        if gatherCapacity < count {
            gather?.deallocate()
            gatherCapacity = max(count, 4096)
            gather = .allocate(byteCount: gatherCapacity, alignment: 16)
        }
        // Force-unwrap: allocated above (count > 0).
        let base = gather!
        var offset = 0
        var index = first
        while index >= 0 {
            pieces[index].withUnsafeBytes { bytes in
                // Force-unwrap: written pieces are never empty.
                (base + offset).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
                offset += bytes.count
            }
            index = Int(nextPiece[index])
        }
        try body(UnsafeRawBufferPointer(start: base, count: offset))
    }

    /// Forgets `stream`'s pending pieces (it was closed).
    func dropPending(of stream: TLSStream) {
        stream.firstPiece = -1
        stream.lastPiece = -1
    }

    private func list(_ stream: TLSStream) {
        streams.append(stream)
        guard !isScheduled else { return }
        isScheduled = true
        stream.loop.runBeforeFlush(action)
    }

    private func encryptAll() {
        isScheduled = false
        var listed: [TLSStream] = []
        swap(&listed, &streams)
        for stream in listed { stream.encryptPending() }
        // Every listed stream has taken its pieces; nothing can have been written meanwhile
        // (encrypting writes to the wrapped streams only), but if it was, its pieces stay.
        if streams.isEmpty {
            pieces.removeAll(keepingCapacity: true)
            nextPiece.removeAll(keepingCapacity: true)
            listed.removeAll(keepingCapacity: true)
            swap(&listed, &streams)
        }
    }
}
