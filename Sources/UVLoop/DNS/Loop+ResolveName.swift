import CLibUV

extension Loop {
    /// Finds the host name of `address` (a reverse lookup, `uv_getnameinfo` on libuv's thread
    /// pool), such as `localhost` for `127.0.0.1`.
    ///
    /// Throws `UVError` (`EAI_NONAME` when the address has no name) or `CancellationError`: a
    /// lookup that has not started is cancelled; one under way is abandoned and its answer
    /// discarded.
    ///
    /// ```swift
    /// let name = try await loop.resolveName(of: client.peerAddress!)
    /// ```
    public func resolveName(of address: SocketAddress) async throws -> String {
        assertOnLoop("resolveName")
        let request = Request<uv_getnameinfo_t, String>(loop: self, operation: "resolve name of", target: address.host)
        return try await request.perform(
            start: { request in
                address.withSockaddr { pointer, _ in
                    uv_getnameinfo(
                        uv, request,
                        { request, status, host, _ in
                            // `host` points into the request: copied before the request is freed.
                            Request<uv_getnameinfo_t, String>.complete(
                                request, status: status, value: host.map { String(cString: $0) } ?? "")
                        }, pointer, NI_NAMEREQD)
                }
            },
            onCancel: Request<uv_getnameinfo_t, String>.cancelQueued)
    }
}
