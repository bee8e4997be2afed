import CLibUV

/// A listening TCP socket that hands out connections through ``Listener/connections`` or
/// ``Listener/accept()``.
///
/// ```swift
/// let server = try TCPListener(host: "0.0.0.0", port: 3000, on: loop)
/// for try await client in server.connections {
///     loop.spawn { try await serve(client) }
/// }
/// ```
///
/// See ``Listener`` for how it accepts, and what it does when accepting fails.
public final class TCPListener: Listener<TCPStream> {
    /// The address the listener is bound to.
    public let localAddress: SocketAddress
    /// Whether accepted streams get TCP_NODELAY (default true: chat lines go out at once).
    public var noDelay = true

    /// Binds to a numeric `host` (`0.0.0.0`, `::`, `127.0.0.1`, `::1`) or `localhost` (which is
    /// 127.0.0.1) and `port`, and listens. Resolve other names first with
    /// ``Loop/resolve(host:port:)``: a name throws `EINVAL`, saying so.
    ///
    /// Port 0 picks a free port: read it back from ``port``. Throws `UVError`, for example
    /// `listen on 0.0.0.0:3000 failed: EADDRINUSE (address already in use)`.
    ///
    /// With `reusePort`, several listeners — typically one per loop of a ``LoopGroup`` — bind the
    /// same address (`SO_REUSEPORT`) and the kernel spreads new connections among them.
    /// `::` listens on IPv6 and IPv4 both; other IPv6 addresses on IPv6 only.
    public init(host: String, port: Int, backlog: Int = 511, reusePort: Bool = false, on loop: Loop) throws {
        loop.assertOnLoop("create a TCP listener")
        // localhost is the loopback address by definition (RFC 6761): no lookup needed.
        let address = try SocketAddress(host: host == "localhost" ? "127.0.0.1" : host, port: port)
        let ipv6Only = address.isIPv6 && host != "::" && host != "[::]"
        let socket = try ListeningSocket.open(address, backlog: backlog, reusePort: reusePort, ipv6Only: ipv6Only)
        // The bound address (with the real port after binding port 0), for messages.
        let name = ListeningSocket.localAddress(of: socket)?.description ?? address.description
        localAddress = address
        super.init(
            loop: loop,
            acceptor: try SocketAcceptor(
                socket: socket, target: name, closedTarget: "closed listener \(name)", description: "TCP listener \(name)", on: loop))
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
}
