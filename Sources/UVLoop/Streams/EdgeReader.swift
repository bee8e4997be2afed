import CLibUV
import Glibc

/// Edge-triggered reading for a loop's TCP streams.
///
/// libuv 1.44 keeps every socket in its epoll set level-triggered. A level-triggered socket
/// goes back on the kernel's ready list as soon as it is reported, so the next poll serves the
/// connections of the previous one first, in that poll's order, ahead of connections whose data
/// came earlier. Under many busy connections that ordering alone raised the p99 latency of the
/// same C responder by 16–31% (PERFORMANCE.md, HTTP session 10). Here a TCP stream that reads
/// is in an epoll set of the loop's own, `EPOLLET`, and joins the ready list when its data
/// arrives: first come, first served, as in nginx. libuv watches the set's descriptor with one
/// `uv_poll_t`; each ready stream `recv`s into the loop's read buffer itself
/// (``Stream/readEdge(toEnd:)``). Writes stay with libuv.
///
/// Loop thread only. `UVLOOP_LEVEL_TRIGGERED_READS=1` in the environment turns it off (libuv
/// reads every stream), for comparisons.
final class EdgeReader {
    /// The epoll set of the streams that read.
    private let set: Int32
    /// libuv's watch of `set`: readable while any stream in it is ready.
    let handle: UnsafeMutablePointer<uv_poll_t>
    private let events: UnsafeMutablePointer<epoll_event>
    private static let capacity = 256
    private static let watched = EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLET.rawValue
    private static let final = EPOLLRDHUP.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue

    /// Off with `UVLOOP_LEVEL_TRIGGERED_READS` set.
    static let isEnabled = getenv("UVLOOP_LEVEL_TRIGGERED_READS") == nil

    /// A reader on `loop`, or nil if the kernel refused the set (libuv then reads every stream).
    init?(loop: UnsafeMutablePointer<uv_loop_t>) {
        let set = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard set >= 0 else { return nil }
        let handle = UnsafeMutablePointer<uv_poll_t>.allocate(capacity: 1)
        guard uv_poll_init(loop, handle, set) == 0 else {
            handle.deallocate()
            Glibc.close(set)
            return nil
        }
        self.set = set
        self.handle = handle
        events = .allocate(capacity: Self.capacity)
        handle.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        uv_poll_start(handle, Int32(UV_READABLE.rawValue)) { handle, _, _ in
            // Unmanaged: the loop owns the reader and closes this handle before dropping it.
            Unmanaged<EdgeReader>.fromOpaque(handle!.pointee.data).takeUnretainedValue().serve()
        }
        // The loop's other work decides when it ends, not this watch.
        uv_unref(asHandle(handle))
    }

    /// Puts `stream` (socket `descriptor`) in the set; an event comes at once if it holds
    /// data already. False if the kernel refused.
    func add(_ stream: Stream, descriptor: Int32) -> Bool {
        control(EPOLL_CTL_ADD, stream, descriptor)
    }

    /// Asks again for `stream`'s readiness: after a pause in reading, the data that came
    /// meanwhile raised edges nobody served, and no new one may come.
    func rearm(_ stream: Stream, descriptor: Int32) {
        _ = control(EPOLL_CTL_MOD, stream, descriptor)
    }

    /// Takes `descriptor` out of the set, before its stream closes it.
    func remove(descriptor: Int32) {
        var event = epoll_event()
        epoll_ctl(set, EPOLL_CTL_DEL, descriptor, &event)
    }

    private func control(_ operation: Int32, _ stream: Stream, _ descriptor: Int32) -> Bool {
        var event = epoll_event()
        event.events = Self.watched
        // Unretained: a stream leaves the set before it closes, and its handle keeps it alive
        // until the close callback, after this poll's events are served.
        event.data.ptr = Unmanaged.passUnretained(stream).toOpaque()
        return epoll_ctl(set, operation, descriptor, &event) == 0
    }

    /// The ready streams read, in the order their data came. At most `capacity` a turn: the
    /// set stays readable for the rest, and libuv calls again on its next poll.
    private func serve() {
        let count = Int(epoll_wait(set, events, Int32(Self.capacity), 0))
        for index in 0..<max(count, 0) {
            guard let pointer = events[index].data.ptr else { continue }
            // The peer's end (or an error) came with this edge: no later edge will tell of it.
            let isFinal = events[index].events & Self.final != 0
            // Unmanaged: see `control`; a stream closed earlier in this batch is still alive.
            Unmanaged<Stream>.fromOpaque(pointer)._withUnsafeGuaranteedRef { $0.readEdge(toEnd: isFinal) }
        }
    }

    /// Stops the watch and frees the set; the handle's memory goes in its close callback.
    func close() {
        uv_close(asHandle(handle)) { $0?.deallocate() }
        Glibc.close(set)
        events.deallocate()
    }
}
