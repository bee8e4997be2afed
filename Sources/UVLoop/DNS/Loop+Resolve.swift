import CLibUV

extension Loop {
    /// Resolves `host` to its addresses through `uv_getaddrinfo` (on libuv's thread pool).
    ///
    /// Throws `UVError` (`EAI_NONAME` for a name that does not resolve) or `CancellationError`;
    /// a cancelled lookup is abandoned at once and its result discarded when it arrives.
    public func resolve(host: String, port: Int = 0) async throws -> [SocketAddress] {
        assertOnLoop("resolve")
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        let request = Request<uv_getaddrinfo_t, [SocketAddress]>(loop: self, operation: "resolve", target: host)
        return try await request.perform(
            start: { request in
                uv_getaddrinfo(
                    uv, request,
                    { request, status, result in
                        defer { uv_freeaddrinfo(result) }
                        Request<uv_getaddrinfo_t, [SocketAddress]>.complete(request, status: status, value: addresses(in: result))
                    }, host, String(port), &hints)
            },
            onCancel: Request<uv_getaddrinfo_t, [SocketAddress]>.cancelQueued)
    }
}

/// The distinct addresses of a `getaddrinfo` result list, in its order.
private func addresses(in list: UnsafeMutablePointer<addrinfo>?) -> [SocketAddress] {
    var addresses: [SocketAddress] = []
    var entry = list
    while let info = entry {
        if let address = info.pointee.ai_addr.flatMap({ SocketAddress(UnsafePointer($0)) }), !addresses.contains(address) {
            addresses.append(address)
        }
        entry = info.pointee.ai_next
    }
    return addresses
}
