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
public final class TCPListener {
    let loop: Loop
    /// The socket, the poll handle, the queue of accepted connections and the back-off.
    private let acceptor: SocketAcceptor<TCPStream>

    /// Connections accepted ahead of `accept()` calls, at most.
    static let readyLimit = SocketAcceptor<TCPStream>.readyLimit

    /// The address the listener is bound to.
    public let localAddress: SocketAddress
    /// Lines longer than this make accepted streams' `readLine` throw (default 64 KiB).
    public var maxLineLength = 64 * 1024
    /// Whether accepted streams get TCP_NODELAY (default true: chat lines go out at once).
    public var noDelay = true
    /// True once ``close()`` was called.
    public var isClosed: Bool { acceptor.isClosed }

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
        // The bound address (with the real port after binding port 0), for messages.
        let name = ListeningSocket.localAddress(of: socket)?.description ?? address.description
        self.loop = loop
        localAddress = address
        acceptor = try SocketAcceptor(
            socket: socket, target: name, closedTarget: "closed listener \(name)", description: "TCP listener \(name)", on: loop)
        // Reads the settings at each accept. The acceptor keeps this (and so the listener)
        // until close(), as libuv keeps a handle's owner until it is closed.
        acceptor.start { [self] socket throws(UVError) in
            let stream = try TCPStream(loop: loop, socket: socket, maxLineLength: maxLineLength)
            if noDelay { uv_tcp_nodelay(stream.tcp, 1) }
            return stream
        }
    }

    /// The port actually bound (useful after binding port 0).
    public var port: Int { boundAddress?.port ?? localAddress.port }

    /// The bound address as the kernel reports it.
    public var boundAddress: SocketAddress? {
        guard !isClosed else { return nil }
        return ListeningSocket.localAddress(of: acceptor.socket)
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
        return try await acceptor.accept()
    }

    /// Connections (and a failure) accepted and not yet taken by `accept()`.
    var readyCount: Int { acceptor.readyCount }

    /// True while the listener watches its socket for connections.
    var isPolling: Bool { acceptor.isPolling }

    /// Takes one pending connection off the socket: the new socket, or a negated `errno`.
    /// Tests replace it to inject failures.
    var acceptSocket: (Int32) -> Int32 {
        get { acceptor.acceptSocket }
        set { acceptor.acceptSocket = newValue }
    }

    /// Stops listening. A task waiting in ``accept()`` gets `UVError` `ECANCELED`; connections
    /// accepted but not yet taken are closed, and those still in the backlog are reset.
    public func close() {
        loop.assertOnLoop("close")
        acceptor.close()
    }
}
