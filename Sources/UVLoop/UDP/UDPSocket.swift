import CLibUV

/// One datagram received by a ``UDPSocket``.
public struct Datagram: Sendable {
    /// The payload.
    public let data: Bytes
    /// Who sent it.
    public let sender: SocketAddress
    /// True when the datagram was larger than the receive buffer (64 KiB) and was cut short.
    public let isTruncated: Bool
}

/// A UDP socket: sends datagrams to any address and receives them from any sender.
///
/// Received datagrams wait in a queue of at most ``receiveQueueLimit``; while it is full the
/// socket stops reading and the kernel drops what does not fit in its buffer, as UDP may.
///
/// ```swift
/// let socket = try UDPSocket(host: "0.0.0.0", port: 5353, on: loop)
/// defer { socket.close() }
/// for try await datagram in socket.datagrams {
///     try await socket.send(datagram.data, to: datagram.sender)    // echo
/// }
/// ```
public final class UDPSocket: HandleOwner {
    let loop: Loop
    let udp: UnsafeMutablePointer<uv_udp_t>
    private var received = FIFO<Datagram>()
    private let receivers: WaitQueue<Datagram>
    private var isReceiving = false
    private var receiveFailure: Int32 = 0
    /// The address asked for at creation (the port may be 0; see ``localAddress``).
    private let requestedAddress: SocketAddress
    /// True once ``close()`` was called.
    public private(set) var isClosed = false
    /// The most received datagrams held for ``receive()`` before reading pauses (default 1024).
    public var receiveQueueLimit = 1024

    /// Binds a socket to a numeric `host` (`0.0.0.0`, `::`, `127.0.0.1`, `::1`) and `port`.
    ///
    /// Port 0 picks a free port: read it back from ``localAddress``. An IPv6 socket takes IPv6
    /// only. `reuseAddress` sets `SO_REUSEADDR`, letting several sockets bind one multicast
    /// port. Throws `UVError`, for example `EADDRINUSE` naming the address.
    public init(host: String, port: Int, reuseAddress: Bool = false, on loop: Loop) throws {
        loop.assertOnLoop("create a UDP socket")
        let address = try SocketAddress(host: host, port: port)
        self.loop = loop
        requestedAddress = address
        receivers = WaitQueue(loop: loop)
        udp = allocateHandle(UV_UDP, as: uv_udp_t.self)
        let status = uv_udp_init(loop.uv, udp)
        if status < 0 {
            UnsafeMutableRawPointer(udp).deallocate()
            throw UVError(code: status, operation: "bind UDP socket to", target: address.description)
        }
        adopt(udp, owner: self)
        var flags: UInt32 = address.isIPv6 ? UInt32(UV_UDP_IPV6ONLY.rawValue) : 0
        if reuseAddress { flags |= UInt32(UV_UDP_REUSEADDR.rawValue) }
        do {
            _ = try address.withSockaddr { pointer, _ in
                try UVError.check(uv_udp_bind(udp, pointer, flags), "bind UDP socket to", address.description)
            }
        } catch {
            isClosed = true
            uvClose(udp)
            throw error
        }
    }

    /// The bound address as the kernel reports it (with the real port after binding port 0).
    public var localAddress: SocketAddress? {
        guard !isClosed else { return nil }
        var storage = sockaddr_storage()
        var length = Int32(MemoryLayout<sockaddr_storage>.size)
        return withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                uv_udp_getsockname(udp, pointer, &length) == 0 ? SocketAddress(UnsafePointer(pointer)) : nil
            }
        }
    }

    private var label: String { "UDP \(localAddress?.description ?? requestedAddress.description)" }

    // MARK: Sending

    /// Sends `bytes` as one datagram to `address`, and waits until the kernel has taken it.
    ///
    /// Throws `UVError` (`EMSGSIZE` for a datagram over 65,507 bytes, `EACCES` for a broadcast
    /// address without ``setBroadcast(_:)``, ``UVError/isClosed`` once closed) or `CancellationError` — the
    /// datagram may still go out after a cancellation.
    public func send(_ bytes: Bytes, to address: SocketAddress) async throws {
        loop.assertOnLoop("send")
        if isClosed { throw closedError("send to \(address) from") }
        // The bytes stay alive until the callback, which libuv always calls (with ECANCELED if
        // the socket closes first): the kernel may read them until then.
        let request = Request<uv_udp_send_t, Void>(loop: loop, operation: "send to", target: address.description, context: bytes.storage)
        try await request.perform(start: { request in
            address.withSockaddr { pointer, _ in
                bytes.withUnsafeBytes { buffer in
                    var buf = uv_buf_init(
                        UnsafeMutableRawPointer(mutating: buffer.baseAddress)?.assumingMemoryBound(to: CChar.self), UInt32(buffer.count))
                    return uv_udp_send(request, udp, &buf, 1, pointer) { request, status in
                        Request<uv_udp_send_t, Void>.complete(request, status: status, value: ())
                    }
                }
            }
        })
    }

    /// Sends the UTF-8 bytes of `string` as one datagram; see ``send(_:to:)-(Bytes,_)``.
    public func send(_ string: String, to address: SocketAddress) async throws {
        try await send(Bytes(string), to: address)
    }

    // MARK: Receiving

    /// Waits for the next datagram.
    ///
    /// Throws `UVError` if receiving failed or the socket is or becomes closed (``UVError/isClosed``),
    /// and `CancellationError` if the task is cancelled (no datagram is lost: it stays queued).
    public func receive() async throws -> Datagram {
        loop.assertOnLoop("receive")
        if let datagram = received.popFirst() {
            if !isReceiving && !isClosed { try startReceiving() }
            return datagram
        }
        if receiveFailure != 0 {
            let code = receiveFailure
            receiveFailure = 0
            throw UVError(code: code, operation: "receive on", target: label)
        }
        if isClosed { throw closedError("receive on") }
        try startReceiving()
        return try await receivers.wait()
    }

    /// What every operation on a closed socket throws: ``UVError/Code/closed``.
    private func closedError(_ operation: String) -> UVError {
        UVError(code: UVError.Code.closed, operation: operation, target: "closed \(label)")
    }

    private func startReceiving() throws {
        guard !isReceiving else { return }
        let status = uv_udp_recv_start(
            udp,
            { handle, _, buffer in
                let loop = owner(of: handle!, as: UDPSocket.self).loop
                buffer!.pointee = uv_buf_init(
                    loop.readBuffer.baseAddress!.assumingMemoryBound(to: CChar.self), UInt32(loop.readBuffer.count))
            },
            { handle, count, _, address, flags in
                owner(of: handle!, as: UDPSocket.self).received(count, from: address, flags: flags)
            })
        try UVError.check(status, "receive on", label)
        isReceiving = true
    }

    /// The receive callback: queues the datagram (copied out of the loop's shared buffer) or
    /// hands it to a waiting task.
    private func received(_ count: Int, from address: UnsafePointer<sockaddr>?, flags: UInt32) {
        if count < 0 {
            let error = UVError(code: Int32(count), operation: "receive on", target: label)
            if !receivers.resumeFirst(with: .failure(error)) { receiveFailure = Int32(count) }
            return
        }
        // Zero bytes and no address: nothing more to read this time.
        guard let address, let sender = SocketAddress(address) else { return }
        let datagram = Datagram(
            data: Bytes(UnsafeRawBufferPointer(start: loop.readBuffer.baseAddress, count: count)), sender: sender,
            isTruncated: flags & UInt32(UV_UDP_PARTIAL.rawValue) != 0)
        if receivers.resumeFirst(with: .success(datagram)) { return }
        received.append(datagram)
        if received.count >= receiveQueueLimit {
            uv_udp_recv_stop(udp)
            isReceiving = false
        }
    }

    /// The datagrams as an `AsyncSequence`; it ends when the socket is closed and throws what
    /// ``receive()`` throws otherwise.
    ///
    /// ```swift
    /// for try await datagram in socket.datagrams { print(datagram.sender, datagram.data) }
    /// ```
    public var datagrams: Datagrams { Datagrams(socket: self) }

    /// An `AsyncSequence` of a socket's datagrams.
    public struct Datagrams: AsyncSequence {
        public typealias Element = Datagram
        public typealias Failure = any Error
        let socket: UDPSocket

        public func makeAsyncIterator() -> Iterator { Iterator(socket: socket) }

        /// Receives the next datagram on each call; `nil` once the socket is closed.
        public struct Iterator: AsyncIteratorProtocol {
            let socket: UDPSocket
            public mutating func next() async throws -> Datagram? {
                do {
                    return try await socket.receive()
                } catch let error as UVError where socket.isClosed && error.isClosed {
                    return nil
                }
            }
        }
    }

    // MARK: Options

    /// Allows (true) or forbids sending to broadcast addresses (`SO_BROADCAST`).
    public func setBroadcast(_ enabled: Bool) throws {
        try checkOpen()
        try UVError.check(uv_udp_set_broadcast(udp, enabled ? 1 : 0), "set SO_BROADCAST on", label)
    }

    /// Sets the time-to-live of unicast datagrams (1–255).
    public func setTTL(_ ttl: Int) throws {
        try checkOpen()
        try UVError.check(uv_udp_set_ttl(udp, Int32(clamping: ttl)), "set TTL on", label)
    }

    /// Sets the time-to-live of multicast datagrams (0–255; 1 keeps them on the local network).
    public func setMulticastTTL(_ ttl: Int) throws {
        try checkOpen()
        try UVError.check(uv_udp_set_multicast_ttl(udp, Int32(clamping: ttl)), "set multicast TTL on", label)
    }

    /// Whether multicast datagrams this socket sends are looped back to this host (default true).
    public func setMulticastLoopback(_ enabled: Bool) throws {
        try checkOpen()
        try UVError.check(uv_udp_set_multicast_loop(udp, enabled ? 1 : 0), "set multicast loopback on", label)
    }

    /// Sends multicast datagrams through the interface with numeric address `interface`.
    public func setMulticastInterface(_ interface: String) throws {
        try checkOpen()
        try UVError.check(uv_udp_set_multicast_interface(udp, interface), "set multicast interface \(interface) on", label)
    }

    /// Joins the multicast `group` (a numeric address such as `239.1.2.3` or `ff02::1:3`) on
    /// the interface with numeric address `interface`, or the system's choice.
    /// Throws `UVError` (`EINVAL` for an address that is not a multicast group).
    public func joinMulticastGroup(_ group: String, interface: String? = nil) throws {
        try setMembership(group, interface: interface, join: true)
    }

    /// Leaves a multicast group joined with ``joinMulticastGroup(_:interface:)``.
    public func leaveMulticastGroup(_ group: String, interface: String? = nil) throws {
        try setMembership(group, interface: interface, join: false)
    }

    /// Throws ``UVError/Code/closed`` once closed: the handle's memory is freed by then.
    private func checkOpen() throws(UVError) {
        if isClosed { throw closedError("set an option on") }
    }

    private func setMembership(_ group: String, interface: String?, join: Bool) throws {
        try checkOpen()
        let status = uv_udp_set_membership(udp, group, interface, join ? UV_JOIN_GROUP : UV_LEAVE_GROUP)
        try UVError.check(status, join ? "join multicast group \(group) on" : "leave multicast group \(group) on", label)
    }

    // MARK: Closing

    /// Closes the socket. Tasks waiting in ``receive()`` get `UVError` `ECANCELED` (and the
    /// ``datagrams`` sequence ends); sends in flight fail with `ECANCELED`. Calling it twice is
    /// harmless.
    public func close() {
        loop.assertOnLoop("close")
        guard !isClosed else { return }
        isClosed = true
        received = FIFO()
        receivers.resumeAll(with: .failure(closedError("receive on")))
        uvClose(udp)
    }

    var handleDescription: String { label }
    func closeHandle() { close() }
}
