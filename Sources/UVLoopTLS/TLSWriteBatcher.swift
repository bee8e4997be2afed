import UVLoop
import UVLoopCodecs

/// Encrypts what a loop iteration wrote to a context's TLS streams once per stream: the lines a
/// chat room broadcasts in one iteration go to each participant as one `SSL_write`, so they
/// share one record (and one record buffer) instead of costing one record each.
///
/// One per ``TLSContext``, which belongs to one loop. The pieces written in an iteration, to
/// any of the context's streams, go into one list, each linked to the next piece of the same
/// stream (a stream keeps only the first and last index): appending allocates nothing once the
/// list has grown. A piece is a pointer and a length; its storage is held once per iteration
/// however many streams it goes to (a broadcast line: one reference, not one per recipient). The first piece of an iteration for a stream puts the stream on the list of
/// streams; the first stream asks the loop to run ``encryptAll()`` before it flushes the
/// iteration's writes (``Loop/runBeforeFlush(_:)``: no task), which gathers each stream's
/// pieces into one reused buffer and encrypts them with one `SSL_write`.
final class TLSWriteBatcher {
    // @exclusivity(unchecked): loop thread only, and no access spans a call that could reach
    // the same property again (`encryptAll` swaps the stream list out first).
    @exclusivity(unchecked) private var streams: [TLSStream] = []
    /// The pieces, in a buffer of our own: an `Array` append costs a uniqueness and a capacity
    /// check through the runtime, per recipient of each line (callgrind, fan-out).
    @exclusivity(unchecked) private var pieces: UnsafeMutablePointer<Piece>?
    @exclusivity(unchecked) private var pieceCount = 0
    @exclusivity(unchecked) private var pieceCapacity = 0
    /// The storage of the pieces, one reference each, dropped once they are encrypted.
    /// Unmanaged: each is retained once when appended and released once, after `encryptAll`
    /// has encrypted every piece pointing into it (or in deinit).
    @exclusivity(unchecked) private var held: [Unmanaged<ByteStorage>] = []
    /// The storage held last: the next piece of a broadcast shares it.
    @exclusivity(unchecked) private var lastHeld: ObjectIdentifier?
    @exclusivity(unchecked) private var isScheduled = false
    /// Where a stream's pieces are gathered for `SSL_write` (at most `TLSStream.writeSlice`).
    @exclusivity(unchecked) private var gather: UnsafeMutableRawPointer?
    @exclusivity(unchecked) private var gatherCapacity = 0
    /// Made once, so scheduling allocates nothing. Unowned: it is handed to the loop only while
    /// `streams` is not empty, and each listed stream holds this batcher (`TLSStream.batcher`).
    private lazy var action: () -> Void = { [unowned self] in self.encryptAll() }

    /// A written piece: its bytes, and the index of the next piece of the same stream, or -1.
    private struct Piece {
        var base: UnsafeRawPointer
        var count: Int
        var next: Int32
    }

    deinit {
        pieces?.deallocate()
        gather?.deallocate()
        for storage in held { storage.release() }
    }

    /// Queues `bytes` (not empty) after `stream`'s pending pieces.
    func append(_ bytes: Bytes, to stream: TLSStream) {
        if pieceCount == pieceCapacity { growPieces() }
        // Force-unwrap: allocated by growPieces.
        let pieces = self.pieces!
        let index = Int32(pieceCount)
        let storage = bytes.storage
        if ObjectIdentifier(storage) != lastHeld {
            lastHeld = ObjectIdentifier(storage)
            held.append(.passRetained(storage))
        }
        // The storage's elements stay where they are while it lives (held above).
        (pieces + pieceCount).initialize(
            to: Piece(base: UnsafeRawPointer(storage.withBase { $0 } + bytes.offset), count: bytes.count, next: -1))
        pieceCount += 1
        if stream.lastPiece >= 0 {
            pieces[Int(stream.lastPiece)].next = index
        } else {
            stream.firstPiece = index
            list(stream)
        }
        stream.lastPiece = index
    }

    private func growPieces() {
        let capacity = max(256, pieceCapacity * 2)
        let grown = UnsafeMutablePointer<Piece>.allocate(capacity: capacity)
        if let pieces {
            grown.moveInitialize(from: pieces, count: pieceCount)
            pieces.deallocate()
        }
        pieces = grown
        pieceCapacity = capacity
    }

    /// Calls `body` with `stream`'s pending pieces as one buffer (valid during the call), then
    /// forgets them. A single piece is passed as it is; several are copied into one buffer.
    func takePending(of stream: TLSStream, _ body: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        let first = Int(stream.firstPiece)
        guard first >= 0, let pieces else { return }
        let count = stream.pendingCount
        stream.firstPiece = -1
        stream.lastPiece = -1
        if pieces[first].next < 0 {
            try body(UnsafeRawBufferPointer(start: pieces[first].base, count: pieces[first].count))
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
            let piece = pieces[index]
            (base + offset).copyMemory(from: piece.base, byteCount: piece.count)
            offset += piece.count
            index = Int(piece.next)
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
            pieceCount = 0
            for storage in held { storage.release() }
            held.removeAll(keepingCapacity: true)
            lastHeld = nil
            listed.removeAll(keepingCapacity: true)
            swap(&listed, &streams)
        }
    }
}
