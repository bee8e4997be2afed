import CLibUV

#if canImport(Glibc)
    import Glibc
#endif

/// The system calls behind ``TCPListener`` and ``UnixListener``: they make their listening
/// sockets and accept on them themselves (``SocketAcceptor``), instead of through libuv's
/// `uv_listen`, so that they see every `accept` failure (see ``TCPListener/accept()``).
/// Errors are libuv codes, which on Linux are negated `errno`s.
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

    /// A Unix-domain stream socket bound to `path` and listening, non-blocking and close-on-exec.
    ///
    /// Bound as libuv's `uv_pipe_bind` binds, but with errors as they are: an existing file at
    /// `path` fails with `EADDRINUSE` and is left alone, a missing directory with `ENOENT`, and
    /// a path that does not fit `sun_path` (107 bytes) with `ENAMETOOLONG` instead of being
    /// cut short. If `listen` fails, the file just made is removed. Throws `UVError` naming the path.
    static func open(path: String, backlog: Int) throws(UVError) -> Int32 {
        let target = "Unix socket \(path)"
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        // One byte is left for the terminating zero, which the zeroed address already holds.
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw UVError(code: -ENAMETOOLONG, operation: "listen on", target: target)
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let type = Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue)
        let fd = socket(AF_UNIX, type, 0)
        if fd < 0 { throw UVError(code: -errno, operation: "listen on", target: target) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                Glibc.bind(fd, pointer, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0 ? 0 : -errno
            }
        }
        if bound < 0 {
            close(fd)
            throw UVError(code: bound, operation: "listen on", target: target)
        }
        if Glibc.listen(fd, Int32(backlog)) != 0 {
            let code = -errno
            removeSocketFile(path)
            close(fd)
            throw UVError(code: code, operation: "listen on", target: target)
        }
        return fd
    }

    /// Removes the file a Unix-domain socket was bound to; call it before closing the socket, so
    /// that it cannot remove the file of another socket bound to the path after it.
    static func removeSocketFile(_ path: String) {
        _ = unlink(path)
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
