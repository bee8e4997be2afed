import CLibUV

#if canImport(Glibc)
    import Glibc
#endif

/// What libuv's poll callback calls. A C callback cannot name a generic type, so it reaches
/// ``SocketAcceptor`` through this non-generic superclass.
class SocketReadinessTarget {
    /// Called on the loop thread when the watched socket is readable, or with a negative status.
    func socketReadable(status: Int32) {}
}

/// The accepting behind ``TCPListener`` and ``UnixListener``: watches a listening socket with a
/// `uv_poll_t` while there is demand, takes connections with `accept4` itself, wraps each as a
/// stream, and reports a failure once and pauses instead of spinning (docs/DESIGN.md §6b).
/// Loop thread only.
///
/// It owns the listening socket from `init` on and closes it in ``close()``. It accepts nothing
/// until ``start(wrappingWith:)`` says how to wrap an accepted socket as a stream: the listener's
/// wrapping reads its settings, so it can only be made once the listener exists.
final class SocketAcceptor<Connection: Stream>: SocketReadinessTarget, HandleOwner {
    let loop: Loop
    /// The listening socket; closed right after `uv_close` of `poll`, which stops watching it at once.
    let socket: Int32
    /// Watches `socket` while there is demand for connections; freed only in its close callback.
    private let poll: UnsafeMutablePointer<uv_poll_t>
    /// True while `poll` watches the socket.
    private(set) var isPolling = false
    /// Connections accepted ahead of `accept()` calls, and the tasks waiting in it.
    private let queue: AcceptQueue<Connection>
    /// Ends the pause after a failed accept; made at the first failure.
    private var retryTimer: LoopTimer?
    /// True while accepting pauses after a failure.
    private var isPaused = false
    /// The last pause: zero after a success, then 5 ms, doubling up to 1 s.
    private var retryDelay: Duration = .zero
    /// The socket in messages: `accept on <target> failed: …`.
    private let target: String
    /// The closed listener in messages: `accept on <closedTarget> failed: ECANCELED …`.
    private let closedTarget: String
    /// Wraps an accepted socket, taking ownership of it (closing it if it throws). Set by
    /// `start`; dropped at close, which ends the cycle through the listener it captures.
    private var wrap: ((Int32) throws(UVError) -> Connection)?
    /// Runs once, just before the socket is closed.
    private var willCloseSocket: (() -> Void)?
    /// Takes one pending connection off the socket: the new socket, or a negated `errno`.
    /// Tests replace it to inject failures.
    var acceptSocket: (Int32) -> Int32 = ListeningSocket.accept
    /// True once ``close()`` was called.
    private(set) var isClosed = false
    let handleDescription: String

    /// Connections accepted ahead of `accept()` calls, at most: few, so that a burst does not
    /// take descriptors far ahead of a server's own cap, which can then refuse politely.
    static var readyLimit: Int { 16 }
    /// The first pause after a failed accept; each further failure doubles it.
    static var firstRetryDelay: Duration { .milliseconds(5) }
    /// The longest pause after a failed accept.
    static var maxRetryDelay: Duration { .seconds(1) }

    /// Takes ownership of `socket`, a listening socket, and prepares to watch it. If this throws,
    /// `willCloseSocket` has run and the socket is closed.
    ///
    /// - Parameters:
    ///   - target: the socket in messages (`127.0.0.1:3000`, `Unix socket /tmp/app.sock`).
    ///   - closedTarget: the same once closed (`closed listener 127.0.0.1:3000`).
    ///   - description: the listener in the loop's list of handles left open.
    ///   - willCloseSocket: runs once, just before the socket is closed (a Unix listener removes
    ///     its file there, before another process can bind the path again).
    init(
        socket: Int32, target: String, closedTarget: String, description: String, on loop: Loop,
        willCloseSocket: @escaping () -> Void = {}
    ) throws(UVError) {
        let poll = allocateHandle(UV_POLL, as: uv_poll_t.self)
        let status = uv_poll_init_socket(loop.uv, poll, socket)
        if status < 0 {
            UnsafeMutableRawPointer(poll).deallocate()
            willCloseSocket()
            ListeningSocket.close(socket)
            throw UVError(code: status, operation: "listen on", target: target)
        }
        self.loop = loop
        self.socket = socket
        self.poll = poll
        self.target = target
        self.closedTarget = closedTarget
        self.willCloseSocket = willCloseSocket
        handleDescription = description
        queue = AcceptQueue(loop: loop, limit: Self.readyLimit)
        super.init()
        adopt(poll, owner: self)
    }

    /// Starts accepting, wrapping each accepted socket with `wrap`, which takes ownership of it
    /// (and closes it if it throws). `wrap` is kept until ``close()``.
    func start(wrappingWith wrap: @escaping (Int32) throws(UVError) -> Connection) {
        self.wrap = wrap
        pollIfWanted()
    }

    /// The next connection; see ``TCPListener/accept()`` for what it throws.
    func accept() async throws -> Connection {
        if let next = queue.takeNext() {
            pollIfWanted()
            return try next.get()
        }
        if isClosed { throw closedError }
        pollIfWanted()
        return try await queue.wait()
    }

    /// Connections (and a failure) accepted and not yet taken by `accept()`.
    var readyCount: Int { queue.readyCount }

    private var closedError: UVError {
        UVError(code: UVError.Code.closed, operation: "accept on", target: closedTarget)
    }

    /// Starts watching the socket when a task waits or the ready queue has drained to half
    /// (not at every take, which would re-arm epoll per connection), unless paused or closed.
    private func pollIfWanted() {
        guard !isPolling, !isPaused, !isClosed, wrap != nil else { return }
        guard queue.waiterCount > 0 || queue.readyCount <= queue.limit / 2 else { return }
        // libuv passes the handle the callback was started on: never nil. Its owner is this
        // object (`adopt` in init), a SocketReadinessTarget.
        let status = uv_poll_start(poll, Int32(UV_READABLE.rawValue)) { handle, status, _ in
            owner(of: handle!, as: SocketReadinessTarget.self).socketReadable(status: status)
        }
        if status < 0 {
            acceptFailed(status)
            return
        }
        isPolling = true
    }

    private func stopPolling() {
        guard isPolling else { return }
        isPolling = false
        uv_poll_stop(poll)
    }

    /// The poll callback: accepts what there is demand for, then stops polling if none is left.
    override func socketReadable(status: Int32) {
        // libuv reports a socket error (POLLERR) as EBADF; it has stopped watching already.
        if status < 0 {
            acceptFailed(status)
            return
        }
        var budget = queue.demand
        while budget > 0, !isClosed, let wrap {
            budget -= 1
            let accepted = acceptSocket(socket)
            if accepted >= 0 {
                retryDelay = .zero
                do {
                    queue.append(try wrap(accepted))
                } catch {
                    acceptFailed(error.code)
                    return
                }
                continue
            }
            switch -accepted {
            case EAGAIN, EWOULDBLOCK:
                budget = 0
            case ECONNABORTED, EINTR, EPROTO:
                continue
            default:
                acceptFailed(accepted)
                return
            }
        }
        if queue.demand == 0 { stopPolling() }
    }

    /// Reports `code` to `accept()` once and pauses accepting: polling stops (so a pending
    /// connection cannot make the loop spin) until the retry timer fires.
    private func acceptFailed(_ code: Int32) {
        stopPolling()
        queue.append(failure: UVError(code: code, operation: "accept on", target: target))
        retryDelay = retryDelay == .zero ? Self.firstRetryDelay : min(retryDelay * 2, Self.maxRetryDelay)
        isPaused = true
        let timer = retryTimer ?? LoopTimer(loop: loop) { self.resumeAfterPause() }
        retryTimer = timer
        // The pause counts from now, not from the start of this loop iteration.
        uv_update_time(loop.uv)
        timer.start(after: retryDelay)
    }

    private func resumeAfterPause() {
        isPaused = false
        pollIfWanted()
    }

    /// Stops accepting and closes the socket. Tasks waiting in `accept()` get `UVError`
    /// `ECANCELED`; connections accepted but not yet taken are closed, and those still in the
    /// backlog are reset.
    func close() {
        guard !isClosed else { return }
        isClosed = true
        isPolling = false
        // Breaks the cycle acceptor → timer → its action → acceptor.
        retryTimer?.close()
        retryTimer = nil
        for connection in queue.close(failing: closedError) { connection.close() }
        uvClose(poll)
        willCloseSocket?()
        willCloseSocket = nil
        wrap = nil
        ListeningSocket.close(socket)
    }

    func closeHandle() { close() }
}
