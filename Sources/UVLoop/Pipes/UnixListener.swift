import CLibUV

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
public final class UnixListener: HandleOwner {
    let loop: Loop
    let pipe: UnsafeMutablePointer<uv_pipe_t>
    /// Connections accepted from libuv ahead of `accept()` calls (at most 256), and the tasks
    /// waiting in it.
    private let queue: AcceptQueue<PipeStream>
    /// True when libuv holds a connection we declined to take because `queue` was full.
    private var isHoldingConnection = false
    /// The socket's path.
    public let path: String
    /// Lines longer than this make accepted streams' `readLine` throw (default 64 KiB).
    public var maxLineLength = 64 * 1024
    /// True once ``close()`` was called.
    public private(set) var isClosed = false

    /// Creates the socket file at `path` and listens on it.
    ///
    /// Throws `UVError` naming the path: `EADDRINUSE` when the file exists (remove a stale one
    /// first), `ENOENT` when the directory does not, `ENAMETOOLONG` past about 107 bytes.
    public init(path: String, backlog: Int = 511, on loop: Loop) throws {
        loop.assertOnLoop("create a Unix listener")
        self.loop = loop
        self.path = path
        queue = AcceptQueue(loop: loop, limit: 256)
        pipe = allocateHandle(UV_NAMED_PIPE, as: uv_pipe_t.self)
        let status = uv_pipe_init(loop.uv, pipe, 0)
        if status < 0 {
            UnsafeMutableRawPointer(pipe).deallocate()
            throw UVError(code: status, operation: "listen on", target: "Unix socket \(path)")
        }
        adopt(pipe, owner: self)
        do {
            try UVError.check(uv_pipe_bind(pipe, path), "listen on", "Unix socket \(path)")
            let stream = UnsafeMutableRawPointer(pipe).assumingMemoryBound(to: uv_stream_t.self)
            try UVError.check(
                uv_listen(stream, Int32(backlog)) { server, status in
                    owner(of: server!, as: UnixListener.self).connectionArrived(status: status)
                }, "listen on", "Unix socket \(path)")
        } catch {
            isClosed = true
            uvClose(pipe)
            throw error
        }
    }

    /// Waits for the next connection.
    ///
    /// Throws `UVError` if the listener was closed (`ECANCELED`), and `CancellationError` if the
    /// task is cancelled. Unlike ``TCPListener``, it accepts through libuv, which on running out
    /// of file descriptors closes the pending connections itself (its reserve-descriptor trick)
    /// and reports nothing; see docs/DESIGN.md §6b.
    public func accept() async throws -> PipeStream {
        loop.assertOnLoop("accept")
        if let next = queue.takeNext() {
            if isHoldingConnection {
                isHoldingConnection = false
                connectionArrived(status: 0)
            }
            return try next.get()
        }
        if isClosed { throw closedError }
        return try await queue.wait()
    }

    private var closedError: UVError {
        UVError(code: UVError.Code.cancelled, operation: "accept on", target: "closed Unix listener \(path)")
    }

    private func acceptError(_ code: Int32) -> UVError {
        UVError(code: code, operation: "accept on", target: "Unix socket \(path)")
    }

    /// The connection callback: takes the connection from libuv, or leaves it there (which
    /// pauses accepting) while the queue is full and nobody waits.
    private func connectionArrived(status: Int32) {
        if status < 0 {
            queue.append(failure: acceptError(status))
            return
        }
        if queue.demand == 0 {
            isHoldingConnection = true
            return
        }
        let stream: PipeStream
        do {
            stream = try PipeStream(loop: loop, label: "Unix socket \(path) (accepted)", maxLineLength: maxLineLength)
        } catch {
            queue.append(failure: acceptError(error.code))
            return
        }
        let server = UnsafeMutableRawPointer(pipe).assumingMemoryBound(to: uv_stream_t.self)
        let accepted = uv_accept(server, stream.stream)
        if accepted < 0 {
            stream.close()
            if accepted != Int32(UV_EAGAIN.rawValue) {
                queue.append(failure: acceptError(accepted))
            }
            return
        }
        queue.append(stream)
    }

    /// Stops listening and removes the socket file. Tasks waiting in ``accept()`` get `UVError`
    /// `ECANCELED`; connections accepted but not yet taken are closed.
    public func close() {
        loop.assertOnLoop("close")
        guard !isClosed else { return }
        isClosed = true
        for stream in queue.close(failing: closedError) { stream.close() }
        // libuv unlinks the socket file when it closes a bound pipe.
        uvClose(pipe)
    }

    var handleDescription: String { "Unix listener \(path)" }
    func closeHandle() { close() }
}
