import CLibUV

/// A listening TCP socket that hands out connections with ``accept()``.
///
/// ```swift
/// let server = try TCPListener(host: "0.0.0.0", port: 3000, on: loop)
/// while true {
///     let client = try await server.accept()
///     loop.spawn { try await serve(client) }
/// }
/// ```
///
/// The listener accepts connections itself (`accept4` when a libuv poll handle reports the
/// socket readable) rather than through libuv's `uv_listen`: libuv 1.44 answers `EMFILE` by
/// closing every pending connection and never reports the error, where this listener reports it
/// from ``accept()``, pauses, and leaves the pending connections in the backlog.
public final class TCPListener: HandleOwner {
    let loop: Loop
    /// The listening socket; closed right after `uv_close` of `poll`, which stops watching it at once.
    private let socket: Int32
    /// Watches `socket` while there is demand for connections; freed only in its close callback.
    private let poll: UnsafeMutablePointer<uv_poll_t>
    /// True while `poll` watches the socket.
    private(set) var isPolling = false
    /// Connections accepted ahead of `accept()` calls, and the tasks waiting in it.
    private let queue: AcceptQueue<TCPStream>
    /// Ends the pause after a failed accept; made at the first failure.
    private var retryTimer: LoopTimer?
    /// True while accepting pauses after a failure.
    private var isPaused = false
    /// The last pause: zero after a success, then 5 ms, doubling up to 1 s.
    private var retryDelay: Duration = .zero
    /// The bound address (with the real port after binding port 0), for messages.
    private let name: String
    /// Takes one pending connection off the socket: the new socket, or a negated `errno`.
    /// Tests replace it to inject failures.
    var acceptSocket: (Int32) -> Int32 = ListeningSocket.accept

    /// Connections accepted ahead of `accept()` calls, at most: few, so that a burst does not
    /// take descriptors far ahead of a server's own cap, which can then refuse politely.
    static let readyLimit = 16
    /// The first pause after a failed accept; each further failure doubles it.
    static let firstRetryDelay = Duration.milliseconds(5)
    /// The longest pause after a failed accept.
    static let maxRetryDelay = Duration.seconds(1)

    /// The address the listener is bound to.
    public let localAddress: SocketAddress
    /// Lines longer than this make accepted streams' `readLine` throw (default 64 KiB).
    public var maxLineLength = 64 * 1024
    /// Whether accepted streams get TCP_NODELAY (default true: chat lines go out at once).
    public var noDelay = true
    /// True once ``close()`` was called.
    public private(set) var isClosed = false

    /// Binds to a numeric `host` (`0.0.0.0`, `::`, `127.0.0.1`, `::1`) and `port`, and listens.
    ///
    /// Port 0 picks a free port: read it back from ``port``. Throws `UVError`, for example
    /// `listen on 0.0.0.0:3000 failed: EADDRINUSE (address already in use)`.
    ///
    /// With `reusePort`, several listeners — typically one per loop of a ``LoopGroup`` — bind the
    /// same address (`SO_REUSEPORT`) and the kernel spreads new connections among them.
    /// `::` listens on IPv6 and IPv4 both; other IPv6 addresses on IPv6 only.
    public init(host: String, port: Int, backlog: Int = 511, reusePort: Bool = false, on loop: Loop) throws {
        loop.assertOnLoop("create a TCP listener")
        let address = try SocketAddress(host: host, port: port)
        let ipv6Only = address.isIPv6 && host != "::" && host != "[::]"
        let socket = try ListeningSocket.open(address, backlog: backlog, reusePort: reusePort, ipv6Only: ipv6Only)
        let poll = allocateHandle(UV_POLL, as: uv_poll_t.self)
        let status = uv_poll_init_socket(loop.uv, poll, socket)
        if status < 0 {
            UnsafeMutableRawPointer(poll).deallocate()
            ListeningSocket.close(socket)
            throw UVError(code: status, operation: "listen on", target: address.description)
        }
        self.loop = loop
        self.socket = socket
        self.poll = poll
        localAddress = address
        name = ListeningSocket.localAddress(of: socket)?.description ?? address.description
        queue = AcceptQueue(loop: loop, limit: Self.readyLimit)
        adopt(poll, owner: self)
        pollIfWanted()
    }

    /// The port actually bound (useful after binding port 0).
    public var port: Int { boundAddress?.port ?? localAddress.port }

    /// The bound address as the kernel reports it.
    public var boundAddress: SocketAddress? {
        guard !isClosed else { return nil }
        return ListeningSocket.localAddress(of: socket)
    }

    /// Waits for the next connection.
    ///
    /// Throws `UVError` when accepting failed, `UVError` `ECANCELED` once the listener is
    /// closed, and `CancellationError` if the task is cancelled. Several tasks may wait at
    /// once; they get connections in the order they started waiting.
    ///
    /// A failure — `EMFILE` or `ENFILE` when out of file descriptors, `ENOBUFS` or `ENOMEM`
    /// when out of memory, or anything unexpected — is thrown once, by the waiting call or else
    /// the next one: `accept on 127.0.0.1:3000 failed: EMFILE (too many open files)`. The
    /// listener then pauses for 5 ms, doubling the pause on each further failure up to 1 s, and
    /// returns to normal at the first success; so calling `accept()` again at once waits out
    /// the pause instead of spinning, and accepting resumes by itself once descriptors free up.
    /// Pending connections wait in the kernel's backlog meanwhile; none is closed.
    /// `ECONNABORTED` (a client gone before it was accepted), `EPROTO` and `EINTR` are retried
    /// silently.
    ///
    /// Connections are accepted a few at a time, at most 16 ahead of `accept()` calls; the
    /// rest wait in the backlog, so a server that stops accepting takes no more descriptors.
    public func accept() async throws -> TCPStream {
        loop.assertOnLoop("accept")
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
        UVError(code: UVError.Code.cancelled, operation: "accept on", target: "closed listener \(name)")
    }

    /// Starts watching the socket when a task waits or the ready queue has drained to half
    /// (not at every take, which would re-arm epoll per connection), unless paused or closed.
    private func pollIfWanted() {
        guard !isPolling, !isPaused, !isClosed else { return }
        guard queue.waiterCount > 0 || queue.readyCount <= queue.limit / 2 else { return }
        // libuv passes the handle the callback was started on: never nil.
        let status = uv_poll_start(poll, Int32(UV_READABLE.rawValue)) { handle, status, _ in
            owner(of: handle!, as: TCPListener.self).socketReadable(status: status)
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
    private func socketReadable(status: Int32) {
        // libuv reports a socket error (POLLERR) as EBADF; it has stopped watching already.
        if status < 0 {
            acceptFailed(status)
            return
        }
        var budget = queue.demand
        while budget > 0 && !isClosed {
            budget -= 1
            let accepted = acceptSocket(socket)
            if accepted >= 0 {
                retryDelay = .zero
                let stream: TCPStream
                do {
                    stream = try TCPStream(loop: loop, socket: accepted, maxLineLength: maxLineLength)
                } catch {
                    acceptFailed(error.code)
                    return
                }
                if noDelay { uv_tcp_nodelay(stream.tcp, 1) }
                queue.append(stream)
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
        queue.append(failure: UVError(code: code, operation: "accept on", target: name))
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

    /// Stops listening. A task waiting in ``accept()`` gets `UVError` `ECANCELED`; connections
    /// accepted but not yet taken are closed, and those still in the backlog are reset.
    public func close() {
        loop.assertOnLoop("close")
        guard !isClosed else { return }
        isClosed = true
        isPolling = false
        // Breaks the cycle listener → timer → its action → listener.
        retryTimer?.close()
        retryTimer = nil
        for stream in queue.close(failing: closedError) { stream.close() }
        uvClose(poll)
        ListeningSocket.close(socket)
    }

    var handleDescription: String { "TCP listener \(name)" }
    func closeHandle() { close() }
}
