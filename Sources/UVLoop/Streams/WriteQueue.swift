import CLibUV

/// The bytes a stream has queued for writing, in one block: a small header, the chunks as
/// libuv's buffer array (`uv_buf_t`, the layout of `iovec`), handed to `uv_try_write` or
/// `uv_write` as it is, and beside it each chunk's storage. Appending is two stores and two
/// additions; blocks come from the loop's pool (``WriteQueuePool``) and go back to it when
/// written, as the C relay in `Benchmarks/Baseline` swaps its pending arrays.
///
/// While the block is a stream's queue its chunks hold no references: the loop holds each
/// written line until the flush (``Loop/holdUntilFlushed(_:)``). A block handed to a write
/// request holds one reference per unwritten chunk (from ``start`` on), taken by
/// ``retainUnwritten()`` and dropped by ``releaseUnwritten()`` when the write completes.
/// Loop thread only.
struct WriteQueue {
    private struct Header {
        var count: Int
        var capacity: Int
        var byteCount: Int
        var start: Int
        var next: UnsafeMutableRawPointer?
    }

    private let block: UnsafeMutableRawPointer
    private static let buffersOffset = (MemoryLayout<Header>.stride + 15) & ~15

    private init(block: UnsafeMutableRawPointer) { self.block = block }

    private var header: UnsafeMutablePointer<Header> { block.assumingMemoryBound(to: Header.self) }

    /// An empty queue with room for `capacity` chunks before it grows.
    static func allocate(capacity: Int) -> WriteQueue {
        let bytes = buffersOffset + capacity * (MemoryLayout<uv_buf_t>.stride + MemoryLayout<Unmanaged<ByteStorage>>.stride)
        let block = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 16)
        block.initializeMemory(as: Header.self, repeating: Header(count: 0, capacity: capacity, byteCount: 0, start: 0), count: 1)
        return WriteQueue(block: block)
    }

    func deallocate() { block.deallocate() }

    /// The number of chunks queued.
    var count: Int { header.pointee.count }
    /// The number of bytes queued.
    var byteCount: Int { header.pointee.byteCount }
    var capacity: Int { header.pointee.capacity }
    var isFull: Bool { header.pointee.count == header.pointee.capacity }

    /// The chunks, as the buffer array libuv writes.
    var buffers: UnsafeMutablePointer<uv_buf_t> {
        (block + WriteQueue.buffersOffset).assumingMemoryBound(to: uv_buf_t.self)
    }

    private var storages: UnsafeMutablePointer<Unmanaged<ByteStorage>> {
        (block + WriteQueue.buffersOffset + capacity * MemoryLayout<uv_buf_t>.stride)
            .assumingMemoryBound(to: Unmanaged<ByteStorage>.self)
    }

    /// Appends `bytes` (not empty) without taking a reference; the queue must not be full.
    func append(_ bytes: Bytes) {
        let index = header.pointee.count
        let base = bytes.storage.withBase { $0 } + bytes.offset
        buffers[index] = uv_buf_t(base: base.assumingMemoryBound(to: CChar.self), len: bytes.count)
        storages[index] = .passUnretained(bytes.storage)
        header.pointee.count = index + 1
        header.pointee.byteCount += bytes.count
    }

    /// A queue of twice the capacity with the same chunks; this one is deallocated.
    func grown() -> WriteQueue {
        let bigger = WriteQueue.allocate(capacity: capacity * 2)
        let count = self.count
        bigger.buffers.update(from: buffers, count: count)
        bigger.storages.update(from: storages, count: count)
        bigger.header.pointee.count = count
        bigger.header.pointee.byteCount = byteCount
        deallocate()
        return bigger
    }

    /// Marks the first `written` bytes as written: whole chunks are skipped (``start``) and a
    /// chunk written in part is trimmed to what remains. `written` is less than ``byteCount``.
    func skip(_ written: Int) {
        var start = 0
        var rest = written
        while rest > 0 && rest >= buffers[start].len {
            rest -= buffers[start].len
            start += 1
        }
        if rest > 0 {
            buffers[start].base = buffers[start].base.map { $0 + rest }
            buffers[start].len -= rest
        }
        header.pointee.start = start
    }

    /// The first chunk not written yet (see ``skip(_:)``).
    var start: Int { header.pointee.start }

    /// Takes a reference to the storage of each unwritten chunk, for a write request.
    func retainUnwritten() {
        for index in start..<count { _ = storages[index].retain() }
    }

    /// Drops the references taken by ``retainUnwritten()``.
    func releaseUnwritten() {
        for index in start..<count { storages[index].release() }
    }

    /// Empties the queue (its chunks hold no references), keeping its capacity.
    func reset() {
        header.pointee.count = 0
        header.pointee.byteCount = 0
        header.pointee.start = 0
    }

    fileprivate var next: WriteQueue? {
        get { header.pointee.next.map(WriteQueue.init(block:)) }
        nonmutating set { header.pointee.next = newValue?.block }
    }
}

/// A free list of emptied write queues, so a stream's writes allocate nothing once it is warm.
/// Used on the loop thread only.
struct WriteQueuePool {
    private var free: WriteQueue?
    private var freeCount = 0
    /// Queues kept for reuse; beyond this, or past ``largest`` chunks, they are freed.
    private let limit = 1024
    private let largest = 256
    /// The capacity of a new queue.
    private let initialCapacity = 16

    mutating func take() -> WriteQueue {
        guard let queue = free else { return WriteQueue.allocate(capacity: initialCapacity) }
        free = queue.next
        freeCount -= 1
        return queue
    }

    /// Takes back `queue`, whose chunks hold no references.
    mutating func give(_ queue: WriteQueue) {
        guard freeCount < limit, queue.capacity <= largest else { return queue.deallocate() }
        queue.reset()
        queue.next = free
        free = queue
        freeCount += 1
    }

    mutating func drain() {
        while let queue = free {
            free = queue.next
            queue.deallocate()
        }
        freeCount = 0
    }
}
