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
        let waiter = Waiter<String>(loop: self)
        let request = UnsafeMutablePointer<uv_getnameinfo_t>.allocate(capacity: 1)
        do {
            return try await lookUp(address, waiter: waiter, request: request)
        } catch let error as UVError {
            throw UVError(code: error.code, operation: "resolve name of", target: address.host)
        }
    }

    private func lookUp(
        _ address: SocketAddress, waiter: Waiter<String>, request: UnsafeMutablePointer<uv_getnameinfo_t>
    ) async throws -> String {
        // Freed here if the wait ends before `start` runs (the task was already cancelled).
        var started = false
        defer { if !started { request.deallocate() } }
        return try await waiter.wait(
            start: {
                started = true
                // Retained until the callback, which libuv always calls (with EAI_CANCELED if cancelled).
                request.pointee.data = Unmanaged.passRetained(waiter).toOpaque()
                let status = address.withSockaddr { pointer, _ in
                    uv_getnameinfo(
                        uv, request,
                        { request, status, host, _ in
                            let waiter = Unmanaged<Waiter<String>>.fromOpaque(request!.pointee.data).takeRetainedValue()
                            // `host` points into the request: copy it before the request is freed.
                            let name = host.map { String(cString: $0) } ?? ""
                            request!.deallocate()
                            if status < 0 {
                                waiter.resume(.failure(UVError(code: status, operation: "resolve name of")))
                            } else {
                                waiter.resume(.success(name))
                            }
                        }, pointer, NI_NAMEREQD)
                }
                if status < 0 {
                    Unmanaged.passUnretained(waiter).release()
                    request.deallocate()
                    throw UVError(code: status, operation: "resolve name of", target: address.host)
                }
            },
            onCancel: { uv_cancel(UnsafeMutableRawPointer(request).assumingMemoryBound(to: uv_req_t.self)) })
    }
}
