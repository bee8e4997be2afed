import Synchronization
import Testing
import UVLoop
import UVLoopTestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// Holds a weak reference to a loop, to check that nothing the loop made outlived it.
final class LoopProbe: Sendable {
    private let loop = Mutex<WeakLoop>(WeakLoop())

    func watch(_ loop: Loop) { self.loop.withLock { $0.loop = loop } }
    var isFreed: Bool { loop.withLock { $0.loop == nil } }
}

struct WeakLoop {
    weak var loop: Loop?
}

/// Runs `body` like `onLoop` (failing on a handle left open), bounded to 10 s so a call that
/// hangs fails the test instead of the run, and checks afterwards that the loop itself was
/// freed: a request, waiter or task that outlives its call keeps the loop alive, so a leak
/// on any failure path shows here, not only under AddressSanitizer.
func onCheckedLoop<T: Sendable>(
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: @escaping @Sendable (Loop) async throws -> T
) async throws -> T {
    let probe = LoopProbe()
    let result = try await onLoop(sourceLocation: sourceLocation) { loop in
        probe.watch(loop)
        return try await loop.withTimeout(.seconds(10)) { try await body(loop) }
    }
    #expect(probe.isFreed, "the loop was not freed: something it made outlived the call", sourceLocation: sourceLocation)
    return result
}

/// The outcome of a call that must fail cleanly: its `UVError` name, `cancelled`, `timeout`,
/// `nil` (a clean end of stream) or `ok`.
func outcome(_ body: () async throws -> Any?) async -> String {
    do {
        return try await body() == nil ? "nil" : "ok"
    } catch let error as UVError {
        return error.name
    } catch is CancellationError {
        return "cancelled"
    } catch is TimeoutError {
        return "timeout"
    } catch {
        return "other: \(error)"
    }
}

/// A loopback port nothing listens on (bound, then closed).
func unusedPort(on loop: Loop) throws -> Int {
    let probe = try TCPListener(host: "127.0.0.1", port: 0, on: loop)
    defer { probe.close() }
    return probe.port
}

@Suite("Error surfaces: every failure is a UVError or a clean end, never a crash, hang or leak")
struct ErrorSurfaceTests {
    // MARK: Listening

    @Test("listening on a port in use, a bad host or a bad port throws a UVError and leaves nothing open")
    func listenFailures() async throws {
        let names = try await onCheckedLoop { loop -> [String] in
            let first = try TCPListener(host: "127.0.0.1", port: 0, on: loop)
            defer { first.close() }
            return [
                await outcome { try TCPListener(host: "127.0.0.1", port: first.port, on: loop) },
                await outcome { try TCPListener(host: "not-an-address", port: 0, on: loop) },
                await outcome { try TCPListener(host: "127.0.0.1", port: 70_000, on: loop) },
            ]
        }
        #expect(names == ["EADDRINUSE", "EINVAL", "EINVAL"])
    }

    @Test("accept on a closed listener, or one closed while waiting, throws ECANCELED")
    func acceptAfterClose() async throws {
        let names = try await onCheckedLoop { loop -> [String] in
            let listener = try TCPListener(host: "127.0.0.1", port: 0, on: loop)
            var waiting = ""
            let acceptor = loop.spawn { waiting = await outcome { try await listener.accept() } }
            try await loop.sleep(for: .milliseconds(5))
            listener.close()
            await acceptor.value
            return [waiting, await outcome { try await listener.accept() }]
        }
        #expect(names == ["ECANCELED", "ECANCELED"])
    }

    // MARK: Connecting

    @Test("connect: refused, unresolvable name, timeout — each a UVError or TimeoutError, with nothing left open")
    func connectFailures() async throws {
        let backlog = FullBacklog()
        let hangingPort = backlog.port
        let names = try await onCheckedLoop { loop -> [String] in
            let port = try unusedPort(on: loop)
            return [
                await outcome { try await TCPStream.connect(host: "127.0.0.1", port: port, on: loop) },
                await outcome { try await TCPStream.connect(host: "no-such-host.invalid", port: 80, on: loop) },
                await outcome {
                    try await loop.withTimeout(.milliseconds(100)) {
                        try await TCPStream.connect(host: "127.0.0.1", port: hangingPort, on: loop)
                    }
                },
            ]
        }
        #expect(names[0] == "ECONNREFUSED")
        // EAI_NONAME normally; EAI_AGAIN where no resolver answers. Either is a UVError.
        #expect(names[1].hasPrefix("EAI_"), "got \(names[1])")
        #expect(names[2] == "timeout")
    }

    @Test("connect in a task that is already cancelled throws CancellationError and leaks nothing")
    func connectAlreadyCancelled() async throws {
        let name = try await onCheckedLoop { loop -> String in
            let listener = try TCPListener(host: "127.0.0.1", port: 0, on: loop)
            defer { listener.close() }
            var name = ""
            let task = loop.spawn {
                withUnsafeCurrentTask { $0?.cancel() }
                name = await outcome { try await TCPStream.connect(host: "127.0.0.1", port: listener.port, on: loop) }
            }
            await task.value
            return name
        }
        #expect(name == "cancelled")
    }

    @Test("resolve in a task that is already cancelled throws CancellationError and leaks nothing")
    func resolveAlreadyCancelled() async throws {
        let name = try await onCheckedLoop { loop -> String in
            var name = ""
            let task = loop.spawn {
                withUnsafeCurrentTask { $0?.cancel() }
                name = await outcome { try await loop.resolve(host: "localhost", port: 80) }
            }
            await task.value
            return name
        }
        #expect(name == "cancelled")
    }

    @Test("a resolve cancelled while it runs throws CancellationError and leaks nothing")
    func resolveCancelledWhileRunning() async throws {
        let name = try await onCheckedLoop { loop -> String in
            var name = ""
            let task = loop.spawn { name = await outcome { try await loop.resolve(host: "localhost", port: 80) } }
            task.cancel()
            await task.value
            return name
        }
        // The lookup may finish before the cancellation lands; both are clean ends.
        #expect(["cancelled", "ok"].contains(name))
    }

    // MARK: Using a stream after it or its peer is gone

    @Test("every stream call after close throws a UVError or does nothing; none waits")
    func callsAfterClose() async throws {
        let names = try await onCheckedLoop { loop -> [String] in
            let (client, server) = try await connectedPair(on: loop)
            defer { server.close() }
            client.close()
            client.close()  // twice is harmless
            client.reset()  // and so is a reset after close
            return [
                await outcome { try client.write("late\n") },
                await outcome { try client.write(Bytes("late\n"), queueLimit: 1024) },
                await outcome { try await client.readLine() },
                await outcome { try await client.readLineBytes() },
                await outcome { try await client.read() },
                await outcome { try await client.flush() },
                await outcome { try await client.drain() },
                await outcome { try await client.closeWrite() },
                client.localAddress == nil && client.peerAddress == nil ? "no addresses" : "addresses",
                "\(client.bufferedWriteCount)",
            ]
        }
        #expect(names == Array(repeating: "ECANCELED", count: 8) + ["no addresses", "0"])
    }

    @Test("socket options on a closed TCP stream or UDP socket throw the closed error instead of touching the freed handle")
    func optionsAfterClose() async throws {
        let names = try await onCheckedLoop { loop -> [String] in
            let (client, server) = try await connectedPair(on: loop)
            defer { server.close() }
            client.close()
            let udp = try UDPSocket(host: "127.0.0.1", port: 0, on: loop)
            udp.close()
            // Let the close callbacks run, so the handles' memory is really gone.
            try await loop.sleep(for: .milliseconds(1))
            return [
                await outcome { try client.setNoDelay(true) },
                await outcome { try client.setKeepAlive(.seconds(5)) },
                await outcome { try udp.setBroadcast(true) },
                await outcome { try udp.setTTL(5) },
                await outcome { try udp.setMulticastTTL(1) },
                await outcome { try udp.setMulticastLoopback(false) },
                await outcome { try udp.setMulticastInterface("127.0.0.1") },
                await outcome { try udp.joinMulticastGroup("239.1.2.3") },
                await outcome { try udp.leaveMulticastGroup("239.1.2.3") },
            ]
        }
        #expect(names == Array(repeating: "ECANCELED", count: 9))
    }

    @Test("binding a UDP port in use throws EADDRINUSE; sending from a closed socket throws the closed error")
    func udpFailures() async throws {
        let names = try await onCheckedLoop { loop -> [String] in
            let first = try UDPSocket(host: "127.0.0.1", port: 0, on: loop)
            defer { first.close() }
            let port = try #require(first.localAddress?.port)
            let closed = try UDPSocket(host: "127.0.0.1", port: 0, on: loop)
            closed.close()
            return [
                await outcome { try UDPSocket(host: "127.0.0.1", port: port, on: loop) },
                await outcome { try await closed.send("x", to: SocketAddress(host: "127.0.0.1", port: port)) },
                await outcome { try await closed.receive() },
            ]
        }
        #expect(names == ["EADDRINUSE", "ECANCELED", "ECANCELED"])
    }

    @Test("a reader waiting when the peer resets gets ECONNRESET or the end of stream")
    func waitingReaderSeesReset() async throws {
        let name = try await onCheckedLoop { loop -> String in
            let (client, server) = try await connectedPair(on: loop)
            defer { server.close() }
            var name = ""
            let reader = loop.spawn {
                name = await outcome {
                    while try await server.readLine() != nil {}
                    return nil
                }
            }
            try await loop.sleep(for: .milliseconds(5))
            try client.write("a line, then a reset\n")
            try await client.flush()
            client.reset()
            await reader.value
            return name
        }
        #expect(["nil", "ECONNRESET"].contains(name))
    }

    @Test("writing after closeWrite fails with EPIPE at flush; the read side still works")
    func writeAfterHalfClose() async throws {
        let result = try await onCheckedLoop { loop -> [String] in
            let (client, server) = try await connectedPair(on: loop)
            defer { close(client, server) }
            try await client.closeWrite()
            let afterShutdown = await outcome {
                try client.write("after FIN\n")
                try await client.flush()
                return ()
            }
            let end = await outcome { try await server.readLine() }
            try server.write("still readable\n")
            let reply = try await client.readLine() ?? "<eof>"
            return [afterShutdown, end, reply]
        }
        #expect(result == ["EPIPE", "nil", "still readable"])
    }

    @Test("closeWrite in a task that is already cancelled throws CancellationError and leaks nothing")
    func closeWriteAlreadyCancelled() async throws {
        let name = try await onCheckedLoop { loop -> String in
            let (client, server) = try await connectedPair(on: loop)
            defer { close(client, server) }
            var name = ""
            let task = loop.spawn {
                withUnsafeCurrentTask { $0?.cancel() }
                name = await outcome { try await client.closeWrite() }
            }
            await task.value
            return name
        }
        #expect(name == "cancelled")
    }

    // MARK: Stopping with work pending

    @Test(
        "stop() from another thread ends every pending wait, closes every handle and frees the loop",
        .timeLimit(.minutes(1)))
    func stopWithWorkPending() async throws {
        let backlog = FullBacklog()
        let hangingPort = backlog.port
        let results = Mutex<[String]>([])
        let probe = LoopProbe()
        let leaks = LeakRecorder()
        let ended: String
        do {
            try await Loop.runOnNewThread { loop in
                probe.watch(loop)
                loop.onOpenHandlesAtShutdown = { handles in leaks.handles.withLock { $0 = handles } }
                let listener = try TCPListener(host: "127.0.0.1", port: 0, on: loop)
                defer { listener.close() }
                let (client, server) = try await connectedPair(on: loop)
                defer { close(client, server) }
                func record(_ what: String, _ body: @escaping () async throws -> Any?) {
                    loop.spawn {
                        let name = await outcome(body)
                        results.withLock { $0.append("\(what): \(name)") }
                    }
                }
                record("accept") { try await listener.accept() }
                record("read") { try await server.readLine() }
                record("sleep") { try await loop.sleep(for: .seconds(60)) }
                record("connect") { try await TCPStream.connect(host: "127.0.0.1", port: hangingPort, on: loop) }
                try await loop.sleep(for: .milliseconds(20))
                // From another thread, as a signal handler or a supervisor would.
                DetachedThread.start { loop.stop() }
                try await loop.sleep(for: .seconds(60))
            }
            ended = "returned"
        } catch is CancellationError {
            ended = "cancelled"
        }
        #expect(ended == "cancelled")
        #expect(results.withLock { $0.sorted() } == ["accept: cancelled", "connect: cancelled", "read: cancelled", "sleep: cancelled"])
        #expect(leaks.handles.withLock { $0 }.isEmpty)
        #expect(probe.isFreed, "the loop was not freed")
    }
}

/// Starts a detached POSIX thread, for calls that must come from outside the loop.
enum DetachedThread {
    static func start(_ body: @escaping @Sendable () -> Void) {
        final class Box: @unchecked Sendable {
            // @unchecked Sendable: created before the thread starts, then used by that thread only.
            let body: @Sendable () -> Void
            init(_ body: @escaping @Sendable () -> Void) { self.body = body }
        }
        var thread = pthread_t()
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        let status = pthread_create(
            &thread, nil,
            { argument in
                // Balances the retain above.
                Unmanaged<Box>.fromOpaque(argument!).takeRetainedValue().body()
                return nil
            }, box)
        precondition(status == 0, "pthread_create failed: \(status)")
        pthread_detach(thread)
    }
}
