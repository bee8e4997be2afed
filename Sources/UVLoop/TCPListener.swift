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
public final class TCPListener: HandleOwner {
    let loop: Loop
    let tcp: UnsafeMutablePointer<uv_tcp_t>
    /// Connections accepted from libuv but not yet taken by `accept()`.
    private var ready: [TCPStream] = []
    private var readyHead = 0
    /// True when libuv holds a connection we declined to take because `ready` was full.
    private var isHoldingConnection = false
    private var acceptFailure: Int32 = 0
    /// Resumed on the loop thread, consumed by the accepting task on the same thread.
    private var waiter: UnsafeContinuation<UnsafeTransfer<TCPStream>, any Error>?
    /// Connections accepted ahead of `accept()` calls, at most.
    private let readyLimit = 256
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
        self.loop = loop
        tcp = allocateHandle(UV_TCP, as: uv_tcp_t.self)
        // With reusePort the socket must exist before bind, to set the option on it.
        let family = UInt32(address.isIPv6 ? AF_INET6 : AF_INET)
        let status = reusePort ? uv_tcp_init_ex(loop.uv, tcp, family) : uv_tcp_init(loop.uv, tcp)
        if status < 0 {
            UnsafeMutableRawPointer(tcp).deallocate()
            throw UVError(code: status, operation: "listen on", target: address.description)
        }
        localAddress = address
        adopt(tcp, owner: self)
        do {
            if reusePort {
                var fd: uv_os_fd_t = -1
                var one: Int32 = 1
                try UVError.check(uv_fileno(asHandle(tcp), &fd), "listen on", address.description)
                if setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, socklen_t(MemoryLayout<Int32>.size)) != 0 {
                    throw UVError(code: -__errno_location().pointee, operation: "set SO_REUSEPORT for", target: address.description)
                }
            }
            let ipv6Only = address.isIPv6 && host != "::" && host != "[::]"
            _ = try address.withSockaddr { pointer, _ in
                try UVError.check(
                    uv_tcp_bind(tcp, pointer, ipv6Only ? UInt32(UV_TCP_IPV6ONLY.rawValue) : 0), "listen on", address.description)
            }
            let stream = UnsafeMutableRawPointer(tcp).assumingMemoryBound(to: uv_stream_t.self)
            try UVError.check(
                uv_listen(stream, Int32(backlog)) { server, status in
                    owner(of: server!, as: TCPListener.self).connectionArrived(status: status)
                }, "listen on", address.description)
        } catch {
            uvClose(tcp)
            throw error
        }
    }

    /// The port actually bound (useful after binding port 0).
    public var port: Int { boundAddress?.port ?? localAddress.port }

    /// The bound address as the kernel reports it.
    public var boundAddress: SocketAddress? {
        guard !isClosed else { return nil }
        var storage = sockaddr_storage()
        var length = Int32(MemoryLayout<sockaddr_storage>.size)
        return withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                uv_tcp_getsockname(tcp, pointer, &length) == 0 ? SocketAddress(UnsafePointer(pointer)) : nil
            }
        }
    }

    /// Waits for the next connection.
    ///
    /// Throws `UVError` if accepting failed (`EMFILE` when out of file descriptors: back off
    /// and try again) or the listener was closed (`ECANCELED`), and `CancellationError` if the
    /// task is cancelled.
    public func accept() async throws -> TCPStream {
        loop.assertOnLoop("accept")
        while true {
            if let stream = takeReady() { return stream }
            if acceptFailure != 0 {
                let code = acceptFailure
                acceptFailure = 0
                throw UVError(code: code, operation: "accept on", target: localAddress.description)
            }
            if isClosed { throw UVError(code: UVError.Code.cancelled, operation: "accept on", target: "closed listener \(localAddress)") }
            let this = UnsafeTransfer(self)
            let stream = try await withTaskCancellationHandler {
                try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<UnsafeTransfer<TCPStream>, any Error>) in
                    if Task.isCancelled {
                        continuation.resume(throwing: CancellationError())
                    } else {
                        waiter = continuation
                    }
                }
            } onCancel: {
                // Safe: the listener is touched only after the hop to its loop's thread.
                this.value.loop.onLoopThread { this.value.waiter.take()?.resume(throwing: CancellationError()) }
            }
            return stream.value
        }
    }

    private func takeReady() -> TCPStream? {
        guard readyHead < ready.count else { return nil }
        let stream = ready[readyHead]
        readyHead += 1
        if readyHead == ready.count {
            ready.removeAll(keepingCapacity: true)
            readyHead = 0
        }
        if isHoldingConnection {
            isHoldingConnection = false
            connectionArrived(status: 0)
        }
        return stream
    }

    /// The connection callback: takes the connection from libuv, or leaves it there (which
    /// pauses accepting) while `readyLimit` connections wait for `accept()`.
    private func connectionArrived(status: Int32) {
        if status < 0 {
            if let waiter = waiter.take() {
                waiter.resume(throwing: UVError(code: status, operation: "accept on", target: localAddress.description))
            } else {
                acceptFailure = status
            }
            return
        }
        if waiter == nil && ready.count - readyHead >= readyLimit {
            isHoldingConnection = true
            return
        }
        let stream: TCPStream
        do {
            stream = try TCPStream(loop: loop, maxLineLength: maxLineLength)
        } catch {
            acceptFailure = error.code
            return
        }
        let server = UnsafeMutableRawPointer(tcp).assumingMemoryBound(to: uv_stream_t.self)
        let accepted = uv_accept(server, stream.stream)
        if accepted < 0 {
            stream.close()
            if accepted != Int32(UV_EAGAIN.rawValue) { acceptFailure = accepted }
            return
        }
        if noDelay { uv_tcp_nodelay(stream.tcp, 1) }
        if let waiter = waiter.take() {
            waiter.resume(returning: UnsafeTransfer(stream))
        } else {
            ready.append(stream)
        }
    }

    /// Stops listening. A task waiting in ``accept()`` gets `UVError` `ECANCELED`; connections
    /// accepted but not yet taken are closed.
    public func close() {
        loop.assertOnLoop("close")
        guard !isClosed else { return }
        isClosed = true
        waiter.take()?.resume(
            throwing: UVError(code: UVError.Code.cancelled, operation: "accept on", target: "closed listener \(localAddress)"))
        while let stream = takeReady() { stream.close() }
        uvClose(tcp)
    }

    var handleDescription: String { "TCP listener \(localAddress)" }
    func closeHandle() { close() }
}
