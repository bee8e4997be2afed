/// What ``TCPListener`` and ``UnixListener`` share: a listening socket that hands out
/// connections of type `Connection`, through ``connections`` or ``accept()``.
///
/// ```swift
/// for try await connection in server.connections {
///     loop.spawn { try await serve(connection) }
/// }
/// ```
///
/// It accepts connections itself (`accept4` when a libuv poll handle reports the socket
/// readable) rather than through libuv's `uv_listen`: libuv 1.44 answers `EMFILE` by closing
/// every pending connection and never reports the error, where this listener reports it from
/// ``accept()``, pauses, and leaves the pending connections in the backlog. Use it from its
/// loop's tasks only.
public class Listener<Connection: Stream> {
    /// The loop the listener belongs to.
    public let loop: Loop
    /// The socket, the poll handle, the queue of accepted connections and the back-off.
    let acceptor: SocketAcceptor<Connection>
    /// Lines longer than this make accepted streams' `readLine` throw (default 64 KiB).
    public var maxLineLength = 64 * 1024

    /// Connections accepted ahead of `accept()` calls, at most.
    static var readyLimit: Int { SocketAcceptor<Connection>.readyLimit }

    init(loop: Loop, acceptor: SocketAcceptor<Connection>) {
        self.loop = loop
        self.acceptor = acceptor
    }

    /// True once ``close()`` was called.
    public var isClosed: Bool { acceptor.isClosed }

    /// Waits for the next connection.
    ///
    /// Throws `UVError` when accepting failed, `UVError` `ECANCELED` once the listener is
    /// closed, and `CancellationError` if the task is cancelled. Several tasks may wait at
    /// once; they get connections in the order they started waiting. ``connections`` is the
    /// simpler loop: it rides out the failures below by itself.
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
    public func accept() async throws -> Connection {
        loop.assertOnLoop("accept")
        return try await acceptor.accept()
    }

    /// The accepted connections, as an `AsyncSequence` that rides out transient failures and
    /// ends on ``close()`` or when the iterating task is cancelled.
    ///
    /// Running out of descriptors or memory (`EMFILE`, `ENFILE`, `ENOBUFS`, `ENOMEM`) or a
    /// client gone before it was accepted (`ECONNABORTED`) does not end it: the listener backs
    /// off (see ``accept()``) and the sequence goes on once accepting works again. Any other
    /// failure is thrown.
    ///
    /// ```swift
    /// for try await connection in server.connections {
    ///     loop.spawn { try await serve(connection) }
    /// }
    /// // here: the listener was closed, or this task cancelled
    /// ```
    public var connections: Connections { Connections(listener: self, onFailure: nil) }

    /// ``connections``, calling `onFailure` with each transient failure it rides out (to log it).
    public func connections(onFailure: @escaping (UVError) -> Void) -> Connections {
        Connections(listener: self, onFailure: onFailure)
    }

    /// The connections of a ``Listener``; see ``Listener/connections``.
    public struct Connections: AsyncSequence {
        public typealias Element = Connection
        public typealias Failure = any Error
        let listener: Listener
        let onFailure: ((UVError) -> Void)?

        public func makeAsyncIterator() -> Iterator { Iterator(listener: listener, onFailure: onFailure) }

        /// Accepts the next connection on each call; `nil` once the listener is closed or the
        /// task cancelled.
        public struct Iterator: AsyncIteratorProtocol {
            let listener: Listener
            let onFailure: ((UVError) -> Void)?

            public mutating func next() async throws -> Connection? {
                while true {
                    if listener.isClosed || Task.isCancelled { return nil }
                    do {
                        return try await listener.accept()
                    } catch is CancellationError {
                        return nil
                    } catch let error as UVError where listener.isClosed || error.isClosed {
                        return nil
                    } catch let error as UVError where Listener.isTransient(error) {
                        onFailure?(error)
                    }
                }
            }
        }
    }

    /// Failures that pass: the listener backs off and accepting works again later.
    static func isTransient(_ error: UVError) -> Bool {
        [
            UVError.Code.tooManyOpenFiles, UVError.Code.tooManyOpenFilesInSystem, UVError.Code.connectionAborted,
            UVError.Code.outOfMemory, UVError.Code.noBufferSpace,
        ].contains(error.code)
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

    /// Stops listening. A task waiting in ``accept()`` gets `UVError` `ECANCELED` (and
    /// ``connections`` ends); connections accepted but not yet taken are closed, and those
    /// still in the backlog are reset.
    public func close() {
        loop.assertOnLoop("close")
        acceptor.close()
    }
}
