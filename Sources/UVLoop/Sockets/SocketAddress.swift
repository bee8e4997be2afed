import CLibUV

/// An IPv4 or IPv6 address and port.
///
/// Its `description` is `127.0.0.1:3000` or `[::1]:3000`.
public struct SocketAddress: Sendable, Hashable, CustomStringConvertible {
    enum Storage: Sendable, Hashable {
        case v4(host: UInt32, port: UInt16)
        case v6(high: UInt64, low: UInt64, port: UInt16, scope: UInt32)
    }

    let storage: Storage

    /// Parses a numeric IPv4 or IPv6 address (`127.0.0.1`, `::1`) with a port.
    ///
    /// Throws `UVError` with `EINVAL` when `host` is not a numeric address, saying so; use
    /// ``Loop/resolve(host:port:)`` for names.
    public init(host: String, port: Int) throws(UVError) {
        guard (0...65535).contains(port) else {
            throw UVError(code: UVError.Code.invalidArgument, operation: "parse address", target: "\(host):\(port)")
        }
        var v4 = sockaddr_in()
        if uv_ip4_addr(host, Int32(port), &v4) == 0 {
            self.init(v4)
            return
        }
        var v6 = sockaddr_in6()
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        if uv_ip6_addr(bare, Int32(port), &v6) == 0 {
            self.init(v6)
            return
        }
        throw UVError(
            code: UVError.Code.invalidArgument, operation: "parse address", target: "\(host):\(port)",
            hint: "host must be an IP address; got \(host) — resolve it first (loop.resolve(host:)) or use 127.0.0.1")
    }

    init(_ address: sockaddr_in) {
        storage = .v4(host: address.sin_addr.s_addr, port: UInt16(bigEndian: address.sin_port))
    }

    init(_ address: sockaddr_in6) {
        let words = withUnsafeBytes(of: address.sin6_addr) {
            ($0.loadUnaligned(as: UInt64.self), $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        }
        storage = .v6(high: words.0, low: words.1, port: UInt16(bigEndian: address.sin6_port), scope: address.sin6_scope_id)
    }

    /// Reads a `sockaddr` of family `AF_INET` or `AF_INET6`.
    init?(_ pointer: UnsafePointer<sockaddr>) {
        switch Int32(pointer.pointee.sa_family) {
        case AF_INET:
            self.init(UnsafeRawPointer(pointer).load(as: sockaddr_in.self))
        case AF_INET6:
            self.init(UnsafeRawPointer(pointer).load(as: sockaddr_in6.self))
        default:
            return nil
        }
    }

    /// The port number.
    public var port: Int {
        switch storage {
        case .v4(_, let port), .v6(_, _, let port, _): return Int(port)
        }
    }

    /// True for an IPv6 address.
    public var isIPv6: Bool {
        if case .v6 = storage { return true }
        return false
    }

    /// The numeric host, such as `127.0.0.1` or `::1`.
    public var host: String {
        var text = [CChar](repeating: 0, count: 64)
        withSockaddr { pointer, _ in
            switch storage {
            case .v4:
                pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { _ = uv_ip4_name($0, &text, text.count) }
            case .v6:
                pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { _ = uv_ip6_name($0, &text, text.count) }
            }
        }
        let bytes = text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    public var description: String {
        isIPv6 ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// Calls `body` with a `sockaddr` for this address and its length.
    func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, Int) throws -> R) rethrows -> R {
        switch storage {
        case .v4(let host, let port):
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            address.sin_addr.s_addr = host
            return try withUnsafePointer(to: &address) {
                try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { try body($0, MemoryLayout<sockaddr_in>.size) }
            }
        case .v6(let high, let low, let port, let scope):
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = port.bigEndian
            address.sin6_scope_id = scope
            withUnsafeMutableBytes(of: &address.sin6_addr) {
                $0.storeBytes(of: high, as: UInt64.self)
                $0.storeBytes(of: low, toByteOffset: 8, as: UInt64.self)
            }
            return try withUnsafePointer(to: &address) {
                try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { try body($0, MemoryLayout<sockaddr_in6>.size) }
            }
        }
    }
}
