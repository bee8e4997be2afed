import CLibUV

extension Loop {
    /// Resolves `host` to its addresses through `uv_getaddrinfo` (on libuv's thread pool).
    ///
    /// Throws `UVError` (`EAI_NONAME` for a name that does not resolve) or `CancellationError`;
    /// a cancelled lookup is abandoned at once and its result discarded when it arrives.
    public func resolve(host: String, port: Int = 0) async throws -> [SocketAddress] {
        let waiter = Waiter<[SocketAddress]>(loop: self)
        let request = UnsafeMutablePointer<uv_getaddrinfo_t>.allocate(capacity: 1)
        // Freed here if the wait ends before `start` runs (the task was already cancelled).
        var started = false
        defer { if !started { request.deallocate() } }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        let target = "\(host):\(port)"
        return try await waiter.wait(
            start: {
                started = true
                // Retained until the callback, which libuv always calls (with EAI_CANCELED if cancelled).
                request.pointee.data = Unmanaged.passRetained(waiter).toOpaque()
                let status = uv_getaddrinfo(
                    uv, request,
                    { request, status, result in
                        let waiter = Unmanaged<Waiter<[SocketAddress]>>.fromOpaque(request!.pointee.data).takeRetainedValue()
                        request!.deallocate()
                        defer { uv_freeaddrinfo(result) }
                        if status < 0 {
                            waiter.resume(.failure(UVError(code: status, operation: "resolve")))
                            return
                        }
                        var addresses: [SocketAddress] = []
                        var entry = result
                        while let info = entry {
                            if let address = info.pointee.ai_addr.flatMap({ SocketAddress(UnsafePointer($0)) }),
                                !addresses.contains(address)
                            {
                                addresses.append(address)
                            }
                            entry = info.pointee.ai_next
                        }
                        waiter.resume(.success(addresses))
                    }, host, String(port), &hints)
                if status < 0 {
                    Unmanaged.passUnretained(waiter).release()
                    request.deallocate()
                    throw UVError(code: status, operation: "resolve", target: target)
                }
            },
            onCancel: { uv_cancel(UnsafeMutableRawPointer(request).assumingMemoryBound(to: uv_req_t.self)) }
        )
    }
}
