import CLibUV

#if canImport(Glibc)
    import Glibc
#endif

/// The system calls behind ``TCPListener``: it makes its listening socket and accepts on it
/// itself, instead of through libuv's `uv_listen`, so that it sees every `accept` failure
/// (see ``TCPListener/accept()``). Errors are libuv codes, which on Linux are negated `errno`s.
enum ListeningSocket {
    /// A TCP socket bound to `address` and listening, non-blocking and close-on-exec.
    ///
    /// Set up as libuv's `uv_tcp_bind` does: `SO_REUSEADDR` always, and `IPV6_V6ONLY` on or off
    /// for IPv6; `SO_REUSEPORT` with `reusePort`. Throws `UVError` naming the address.
    static func open(_ address: SocketAddress, backlog: Int, reusePort: Bool, ipv6Only: Bool) throws(UVError) -> Int32 {
        let target = address.description
        let type = Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue)
        let fd = socket(address.isIPv6 ? AF_INET6 : AF_INET, type, 0)
        if fd < 0 { throw UVError(code: -errno, operation: "listen on", target: target) }
        do {
            try setOption(fd, SOL_SOCKET, SO_REUSEADDR, to: 1, "listen on", target)
            if reusePort { try setOption(fd, SOL_SOCKET, SO_REUSEPORT, to: 1, "set SO_REUSEPORT for", target) }
            if address.isIPv6 { try setOption(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, to: ipv6Only ? 1 : 0, "listen on", target) }
            let bound = address.withSockaddr { pointer, length in
                Glibc.bind(fd, pointer, socklen_t(length)) == 0 ? 0 : -errno
            }
            try UVError.check(bound, "listen on", target)
            try UVError.check(Glibc.listen(fd, Int32(backlog)) == 0 ? 0 : -errno, "listen on", target)
        } catch {
            close(fd)
            throw error
        }
        return fd
    }

    private static func setOption(
        _ fd: Int32, _ level: Int32, _ name: Int32, to value: Int32, _ operation: String, _ target: String
    ) throws(UVError) {
        var value = value
        if setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size)) != 0 {
            throw UVError(code: -errno, operation: operation, target: target)
        }
    }

    /// Takes one pending connection off `fd`'s queue: the new socket (non-blocking,
    /// close-on-exec), or a negated `errno` — `-EAGAIN` when none is pending.
    static func accept(_ fd: Int32) -> Int32 {
        let accepted = accept4(fd, nil, nil, Int32(SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue))
        return accepted >= 0 ? accepted : -errno
    }

    /// The address the socket is bound to, as the kernel reports it.
    static func localAddress(of fd: Int32) -> SocketAddress? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        return withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                getsockname(fd, pointer, &length) == 0 ? SocketAddress(UnsafePointer(pointer)) : nil
            }
        }
    }

    /// Closes a socket this type made or accepted (one libuv does not own).
    static func close(_ fd: Int32) {
        _ = Glibc.close(fd)
    }
}
