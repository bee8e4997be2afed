import CLibUV

/// A ``Stream`` over a libuv pipe: a Unix-domain socket connection, one end of a pipe, a
/// subprocess's standard input or output, or any other stream file descriptor.
///
/// Get one from ``UnixListener/accept()``, ``connect(path:on:)``, ``init(fileDescriptor:on:)``
/// or a ``Subprocess``'s pipes. It reads, writes and closes like any ``Stream``.
///
/// ```swift
/// let conn = try await PipeStream.connect(path: "/run/app.sock", on: loop)
/// try conn.write("status\n")
/// let reply = try await conn.readLine()
/// conn.close()
/// ```
public final class PipeStream: Stream {
    /// The handle, as libuv's pipe type (the same memory as `stream`).
    var pipe: UnsafeMutablePointer<uv_pipe_t> {
        UnsafeMutableRawPointer(stream).assumingMemoryBound(to: uv_pipe_t.self)
    }

    /// What the stream is connected to, for messages (`Unix socket /tmp/app.sock`, `fd 3`).
    private let label: String

    init(loop: Loop, label: String, maxLineLength: Int = 64 * 1024) throws(UVError) {
        loop.assertOnLoop("create a pipe")
        let pipe = allocateHandle(UV_NAMED_PIPE, as: uv_pipe_t.self)
        let status = uv_pipe_init(loop.uv, pipe, 0)
        if status < 0 {
            UnsafeMutableRawPointer(pipe).deallocate()
            throw UVError(code: status, operation: "create pipe for", target: label)
        }
        self.label = label
        super.init(
            loop: loop, stream: UnsafeMutableRawPointer(pipe).assumingMemoryBound(to: uv_stream_t.self), maxLineLength: maxLineLength)
    }

    /// Wraps `socket`, a connection that ``UnixListener`` accepted, and takes ownership of it:
    /// if libuv cannot take it (`uv_pipe_open`), the socket is closed and the error thrown.
    convenience init(loop: Loop, socket: Int32, label: String, maxLineLength: Int) throws(UVError) {
        do {
            try self.init(loop: loop, label: label, maxLineLength: maxLineLength)
        } catch {
            ListeningSocket.close(socket)
            throw error
        }
        let status = uv_pipe_open(pipe, socket)
        if status < 0 {
            close()
            ListeningSocket.close(socket)
            throw UVError(code: status, operation: "open accepted Unix socket")
        }
    }

    /// Wraps an open stream file descriptor — one end of a `pipe(2)`, a socket, a character
    /// device — as a stream (`uv_pipe_open`).
    ///
    /// The descriptor is switched to non-blocking mode, which other processes sharing it see
    /// too. ``close()`` closes it, except for 0, 1 and 2, which libuv never closes. Throws
    /// `UVError` (`EBADF` for a descriptor that is not open). For standard input and output,
    /// prefer ``Stream/standardInput(on:)``, which also handles terminals.
    public convenience init(fileDescriptor: Int32, on loop: Loop) throws {
        try self.init(loop: loop, label: "fd \(fileDescriptor)")
        do {
            try UVError.check(uv_pipe_open(pipe, fileDescriptor), "open a stream on", "file descriptor \(fileDescriptor)")
        } catch {
            close()
            throw error
        }
    }

    /// Connects to the Unix-domain socket at `path`.
    ///
    /// Throws `UVError` naming the path (`ENOENT` when nothing is there, `ECONNREFUSED` when
    /// nothing listens on it), or `CancellationError`.
    public static func connect(path: String, on loop: Loop) async throws -> PipeStream {
        let stream = try PipeStream(loop: loop, label: "Unix socket \(path)")
        let request = Request<uv_connect_t, Void>(loop: loop, operation: "connect to", target: "Unix socket \(path)")
        do {
            try await request.perform(
                start: { request in
                    uv_pipe_connect(request, stream.pipe, path) { request, status in
                        Request<uv_connect_t, Void>.complete(request, status: status, value: ())
                    }
                    return 0
                },
                onCancel: { _ in stream.close() })
        } catch {
            stream.close()
            throw error
        }
        return stream
    }

    /// The path this end is bound to (a listener's accepted connections report the listener's
    /// path); `nil` once closed, for an unnamed end, or for a non-socket descriptor.
    public var localPath: String? { path(uv_pipe_getsockname) }

    /// The path of the socket the peer is bound to (the listener's path, seen from a client);
    /// `nil` once closed, for an unnamed peer, or for a non-socket descriptor.
    public var peerPath: String? { path(uv_pipe_getpeername) }

    private func path(
        _ get: (UnsafePointer<uv_pipe_t>?, UnsafeMutablePointer<CChar>?, UnsafeMutablePointer<Int>?) -> Int32
    ) -> String? {
        guard !isClosed else { return nil }
        var buffer = [CChar](repeating: 0, count: 1024)
        var length = buffer.count
        guard get(pipe, &buffer, &length) == 0, length > 0 else { return nil }
        let bytes = buffer.prefix(length).prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self)
    }

    override var endpointDescription: String { label }

    /// What the stream is connected to, for messages.
    public override var description: String { isClosed ? "closed \(label)" : label }
}
