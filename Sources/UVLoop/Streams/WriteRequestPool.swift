import CLibUV

/// A `uv_write_t` together with the bytes it keeps alive until its callback.
struct WriteRequest {
    /// First, so a `uv_write_t*` from libuv is also a `WriteRequest*`.
    var request = uv_write_t()
    /// The chunks being written, kept alive until the callback.
    var buffers: [QueuedChunk] = []
    var next: UnsafeMutablePointer<WriteRequest>?
}

/// A chunk of bytes queued for writing. Its storage is retained by hand, once per chunk, and
/// released by ``Loop/recycle(_:)`` or ``Stream/close()``: so a broadcast can take the
/// references for all its recipients at once (``retainObject(_:_:)``) instead of one atomic
/// increment per recipient.
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

    /// Releases every chunk's reference and empties `chunks`, keeping its capacity.
    static func releaseAll(_ chunks: inout [QueuedChunk]) {
        for chunk in chunks { chunk.storage.release() }
        chunks.removeAll(keepingCapacity: true)
    }
}

/// Adds `count` strong references to `object` in one atomic step: the runtime's entry point
/// that the compiler itself uses for several retains of one object.
@_silgen_name("swift_retain_n")
func retainObject(_ object: UnsafeMutableRawPointer, _ count: UInt32) -> UnsafeMutableRawPointer

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
