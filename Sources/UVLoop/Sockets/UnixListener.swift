/// A listening Unix-domain socket that hands out connections through ``Listener/connections``
/// or ``Listener/accept()``.
///
/// ```swift
/// let server = try UnixListener(path: "/tmp/app.sock", on: loop)
/// defer { server.close() }    // also removes the socket file
/// for try await client in server.connections {
///     loop.spawn { try await serve(client) }
/// }
/// ```
///
/// See ``Listener`` for how it accepts, and what it does when accepting fails
/// (`accept on Unix socket /tmp/app.sock failed: EMFILE (too many open files)`).
public final class UnixListener: Listener<PipeStream> {
    /// The socket's path.
    public let path: String

    /// Creates the socket file at `path` and listens on it.
    ///
    /// Throws `UVError` naming the path: `EADDRINUSE` when the file exists (remove a stale one
    /// first; it is left alone), `ENOENT` when the directory does not, `ENAMETOOLONG` for a path
    /// longer than 107 bytes.
    public init(path: String, backlog: Int = 511, on loop: Loop) throws {
        loop.assertOnLoop("create a Unix listener")
        let socket = try ListeningSocket.open(path: path, backlog: backlog)
        self.path = path
        // The file goes just before the socket closes: later, the path may be another socket's.
        super.init(
            loop: loop,
            acceptor: try SocketAcceptor(
                socket: socket, target: "Unix socket \(path)", closedTarget: "closed Unix listener \(path)",
                description: "Unix listener \(path)", on: loop, willCloseSocket: { ListeningSocket.removeSocketFile(path) }))
        // Reads the settings at each accept. The acceptor keeps this (and so the listener)
        // until close(), as libuv keeps a handle's owner until it is closed.
        acceptor.start { [self] socket throws(UVError) in
            try PipeStream(loop: loop, socket: socket, label: "Unix socket \(path) (accepted)", maxLineLength: maxLineLength)
        }
    }
}
