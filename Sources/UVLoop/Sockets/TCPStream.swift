import CLibUV

/// A TCP connection: a ``Stream`` with addresses and TCP options.
///
/// Get one from ``TCPListener/accept()`` or ``connect(host:port:on:)``.
///
/// ```swift
/// let conn = try await TCPStream.connect(host: "localhost", port: 3000, on: loop)
/// try conn.write("hello\n")
/// let reply = try await conn.readLine()
/// conn.close()
/// ```
public final class TCPStream: Stream {
    /// The handle, as libuv's TCP type (the same memory as `stream`; not stored, to keep every
    /// connection's object small).
    var tcp: UnsafeMutablePointer<uv_tcp_t> {
        UnsafeMutableRawPointer(stream).assumingMemoryBound(to: uv_tcp_t.self)
    }

    init(loop: Loop, maxLineLength: Int = 64 * 1024) throws(UVError) {
        loop.assertOnLoop("create a TCP stream")
        let tcp = allocateHandle(UV_TCP, as: uv_tcp_t.self)
        let status = uv_tcp_init(loop.uv, tcp)
        if status < 0 {
            UnsafeMutableRawPointer(tcp).deallocate()
            throw UVError(code: status, operation: "create TCP socket")
        }
        super.init(loop: loop, stream: UnsafeMutableRawPointer(tcp).assumingMemoryBound(to: uv_stream_t.self), maxLineLength: maxLineLength)
    }

    /// Wraps `socket`, a connected socket that ``TCPListener`` accepted, and takes ownership of
    /// it: if libuv cannot take it (`uv_tcp_open`), the socket is closed and the error thrown.
    convenience init(loop: Loop, socket: Int32, maxLineLength: Int) throws(UVError) {
        do {
            try self.init(loop: loop, maxLineLength: maxLineLength)
        } catch {
            ListeningSocket.close(socket)
            throw error
        }
        let status = uv_tcp_open(tcp, socket)
        if status < 0 {
            close()
            ListeningSocket.close(socket)
            throw UVError(code: status, operation: "open accepted TCP socket")
        }
    }

    /// Connects to `host` (a name or numeric address) and `port`, trying each address the name
    /// resolves to in turn. Throws `UVError` (e.g. `ECONNREFUSED`, `EAI_NONAME`) naming the
    /// address, or `CancellationError`. Wrap it in ``Loop/withTimeout(_:_:)`` to bound the wait.
    public static func connect(host: String, port: Int, on loop: Loop) async throws -> TCPStream {
        let addresses: [SocketAddress]
        if let numeric = try? SocketAddress(host: host, port: port) {
            addresses = [numeric]
        } else {
            addresses = try await loop.resolve(host: host, port: port)
        }
        var lastError: any Error = UVError(code: UVError.Code.nameNotFound, operation: "connect to", target: "\(host):\(port)")
        for address in addresses {
            do {
                return try await connect(to: address, on: loop)
            } catch let error as UVError {
                lastError = error
            }
        }
        throw lastError
    }

    /// Connects to a numeric address.
    public static func connect(to address: SocketAddress, on loop: Loop) async throws -> TCPStream {
        let stream = try TCPStream(loop: loop)
        let request = Request<uv_connect_t, Void>(loop: loop, operation: "connect to", target: address.description)
        do {
            try await request.perform(
                start: { request in
                    address.withSockaddr { pointer, _ in
                        uv_tcp_connect(request, stream.tcp, pointer) { request, status in
                            Request<uv_connect_t, Void>.complete(request, status: status, value: ())
                        }
                    }
                },
                onCancel: { _ in stream.close() })
        } catch {
            stream.close()
            throw error
        }
        return stream
    }

    /// The local address, or `nil` once closed.
    public override var localAddress: SocketAddress? {
        address(uv_tcp_getsockname)
    }

    /// The peer's address, or `nil` once closed or if not connected.
    public override var peerAddress: SocketAddress? {
        address(uv_tcp_getpeername)
    }

    private func address(
        _ get: (UnsafePointer<uv_tcp_t>?, UnsafeMutablePointer<sockaddr>?, UnsafeMutablePointer<Int32>?) -> Int32
    ) -> SocketAddress? {
        guard !isClosed else { return nil }
        var storage = sockaddr_storage()
        var length = Int32(MemoryLayout<sockaddr_storage>.size)
        return withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                get(tcp, pointer, &length) == 0 ? SocketAddress(UnsafePointer(pointer)) : nil
            }
        }
    }

    /// Disables (true) or enables Nagle's algorithm: small writes go out at once.
    public func setNoDelay(_ enabled: Bool) throws {
        try checkOpen("set TCP_NODELAY on")
        try UVError.check(uv_tcp_nodelay(tcp, enabled ? 1 : 0), "set TCP_NODELAY on", endpointDescription)
    }

    /// Enables TCP keep-alive probes after `idle` without traffic, or disables them (nil).
    public func setKeepAlive(_ idle: Duration?) throws {
        try checkOpen("set keep-alive on")
        let seconds = UInt32(max(1, (idle ?? .seconds(1)).components.seconds))
        try UVError.check(uv_tcp_keepalive(tcp, idle == nil ? 0 : 1, seconds), "set keep-alive on", endpointDescription)
    }

    /// Throws ``UVError/Code/closed`` once closed: the handle's memory is freed by then.
    private func checkOpen(_ operation: String) throws(UVError) {
        if isClosed { throw closedError(operation) }
    }

    /// Closes the connection with a reset (RST) instead of an orderly close.
    public func reset() {
        guard !isClosed else { return }
        var zero = linger(l_onoff: 1, l_linger: 0)
        var fd: uv_os_fd_t = -1
        if uv_fileno(asHandle(tcp), &fd) == 0 {
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &zero, socklen_t(MemoryLayout<linger>.size))
        }
        close()
    }

    override var endpointDescription: String {
        guard let local = localAddress else { return "TCP stream" }
        guard let peer = peerAddress else { return "TCP \(local)" }
        return "TCP \(local) ⇄ \(peer)"
    }

    /// `host:port` of the peer, for messages.
    public override var description: String { peerAddress?.description ?? "closed TCP stream" }
}
