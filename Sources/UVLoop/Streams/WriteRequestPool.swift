import CLibUV

/// A `uv_write_t` together with the queue it writes, kept until its callback.
struct WriteRequest {
    /// First, so a `uv_write_t*` from libuv is also a `WriteRequest*`.
    var request = uv_write_t()
    /// The chunks being written, whose storage they hold until the callback.
    var queue: WriteQueue?
    var next: UnsafeMutablePointer<WriteRequest>?
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
