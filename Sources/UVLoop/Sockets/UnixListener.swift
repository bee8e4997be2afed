/// A listening Unix-domain socket that hands out connections with ``accept()``.
///
/// ```swift
/// let server = try UnixListener(path: "/tmp/app.sock", on: loop)
/// defer { server.close() }    // also removes the socket file
/// while true {
///     let client = try await server.accept()
///     loop.spawn { try await serve(client) }
/// }
/// ```
///
/// Like ``TCPListener``, it accepts connections itself (`accept4` when a libuv poll handle
/// reports the socket readable) rather than through libuv's `uv_listen`, so that running out of
/// file descriptors is reported from ``accept()`` instead of silently closing the pending
/// connections.
public final class UnixListener {
    let loop: Loop
    /// The socket, the poll handle, the queue of accepted connections and the back-off.
    private let acceptor: SocketAcceptor<PipeStream>
    /// The socket's path.
    public let path: String
    /// Lines longer than this make accepted streams' `readLine` throw (default 64 KiB).
    public var maxLineLength = 64 * 1024
    /// True once ``close()`` was called.
    public var isClosed: Bool { acceptor.isClosed }

    /// Connections accepted ahead of `accept()` calls, at most.
    static let readyLimit = SocketAcceptor<PipeStream>.readyLimit

    /// Creates the socket file at `path` and listens on it.
    ///
    /// Throws `UVError` naming the path: `EADDRINUSE` when the file exists (remove a stale one
    /// first; it is left alone), `ENOENT` when the directory does not, `ENAMETOOLONG` for a path
    /// longer than 107 bytes.
    public init(path: String, backlog: Int = 511, on loop: Loop) throws {
        loop.assertOnLoop("create a Unix listener")
        let socket = try ListeningSocket.open(path: path, backlog: backlog)
        self.loop = loop
        self.path = path
        // The file goes just before the socket closes: later, the path may be another socket's.
        acceptor = try SocketAcceptor(
            socket: socket, target: "Unix socket \(path)", closedTarget: "closed Unix listener \(path)",
            description: "Unix listener \(path)", on: loop, willCloseSocket: { ListeningSocket.removeSocketFile(path) })
        // Reads the settings at each accept. The acceptor keeps this (and so the listener)
        // until close(), as libuv keeps a handle's owner until it is closed.
        acceptor.start { [self] socket throws(UVError) in
            try PipeStream(loop: loop, socket: socket, label: "Unix socket \(path) (accepted)", maxLineLength: maxLineLength)
        }
    }

    /// Waits for the next connection.
    ///
    /// Throws `UVError` when accepting failed, `UVError` `ECANCELED` once the listener is
    /// closed, and `CancellationError` if the task is cancelled. Several tasks may wait at
    /// once; they get connections in the order they started waiting.
    ///
    /// Failures are handled as by ``TCPListener/accept()``: `EMFILE` or `ENFILE` (out of file
    /// descriptors), `ENOBUFS` or `ENOMEM` are thrown once —
    /// `accept on Unix socket /tmp/app.sock failed: EMFILE (too many open files)` — and the
    /// listener pauses, 5 ms doubling up to 1 s, until accepting succeeds again; pending
    /// connections wait in the backlog meanwhile. At most 16 connections are accepted ahead of
    /// `accept()` calls.
    public func accept() async throws -> PipeStream {
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

    /// Stops listening and removes the socket file. Tasks waiting in ``accept()`` get `UVError`
    /// `ECANCELED`; connections accepted but not yet taken are closed, and those still in the
    /// backlog are reset.
    public func close() {
        loop.assertOnLoop("close")
        acceptor.close()
    }
}
