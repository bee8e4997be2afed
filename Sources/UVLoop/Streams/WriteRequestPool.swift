import CLibUV

/// A `uv_write_t` together with the bytes it keeps alive until its callback.
struct WriteRequest {
    /// First, so a `uv_write_t*` from libuv is also a `WriteRequest*`.
    var request = uv_write_t()
    /// The chunks being written, kept alive until the callback.
    var buffers: [QueuedChunk] = []
    var next: UnsafeMutablePointer<WriteRequest>?
}

/// A chunk of bytes queued for writing, without a reference of its own to its storage: while
/// it waits in a stream's queue, the loop holds the storage (``Loop/holdUntilFlushed(_:)``),
/// once per write or broadcast rather than once per recipient; a chunk handed to a write
/// request takes a reference by hand, dropped by ``Loop/recycle(_:)`` when it is written.
struct QueuedChunk {
    let storage: Unmanaged<ByteStorage>
    let offset: Int
    let count: Int

    /// The chunk of `bytes`, without taking a reference: the caller accounts for it.
    init(unretained bytes: Bytes) {
        storage = .passUnretained(bytes.storage)
        offset = bytes.offset
        count = bytes.count
    }

    private init(storage: Unmanaged<ByteStorage>, offset: Int, count: Int) {
        self.storage = storage
        self.offset = offset
        self.count = count
    }

    /// The chunk without its first `prefix` bytes (fewer than ``count``).
    func dropping(_ prefix: Int) -> QueuedChunk {
        QueuedChunk(storage: storage, offset: offset + prefix, count: count - prefix)
    }

    /// The chunk as libuv's buffer type; valid while its storage is alive.
    var buffer: uv_buf_t {
        let base = storage._withUnsafeGuaranteedRef { storage in storage.withBase { $0 } }
        return uv_buf_t(base: (base + offset).assumingMemoryBound(to: CChar.self), len: count)
    }

    /// Writes the buffer of each of `chunks` into `bufs`, which has room for them all.
    static func describe(_ chunks: [QueuedChunk], in bufs: UnsafeMutableBufferPointer<uv_buf_t>) {
        chunks.withUnsafeBufferPointer { chunks in
            for index in chunks.indices { bufs[index] = chunks[index].buffer }
        }
    }

    /// Releases every chunk's reference and empties `chunks`, keeping its capacity.
    static func releaseAll(_ chunks: inout [QueuedChunk]) {
        for chunk in chunks { chunk.storage.release() }
        chunks.removeAll(keepingCapacity: true)
    }
}

/// A free list of write requests, so writing costs no allocation once the pool is warm.
/// Used on the loop thread only.
struct WriteRequestPool {
    private var free: UnsafeMutablePointer<WriteRequest>?
    private var freeCount = 0
    /// Requests kept for reuse; beyond this, finished requests are freed.
    private let limit = 4096

    mutating func take() -> UnsafeMutablePointer<WriteRequest> {
        if let request = free {
            free = request.pointee.next
            freeCount -= 1
            return request
        }
        let request = UnsafeMutablePointer<WriteRequest>.allocate(capacity: 1)
        request.initialize(to: WriteRequest())
        return request
    }

    mutating func give(_ request: UnsafeMutablePointer<WriteRequest>) {
        if freeCount >= limit {
            request.deinitialize(count: 1)
            request.deallocate()
            return
        }
        request.pointee.next = free
        free = request
        freeCount += 1
    }

    mutating func drain() {
        while let request = free {
            free = request.pointee.next
            request.deinitialize(count: 1)
            request.deallocate()
        }
        freeCount = 0
    }
}
