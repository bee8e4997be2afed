import CLibUV
import Testing
import UVLoopTestSupport

@testable import UVLoop

#if canImport(Glibc)
    import Glibc
#endif

/// The listener's own accepting: failures reported and paced, the ready-ahead limit, waiters.
/// Failures are injected through `acceptSocket`: running the test process out of descriptors
/// would break the tests that run beside it (scripts/fd_exhaustion.py does that to a server).
@Suite("TCPListener")
struct TCPListenerTests {
    @Test("a failed accept throws EMFILE naming the address, then retries after 5, 10, 20 ms and resumes by itself")
    func acceptFailureBacksOff() async throws {
        let result = try await onCheckedLoop { loop -> (port: Int, errors: [String], gaps: [Duration], calls: Int, line: String?) in
            let listener = try TCPListener(host: "127.0.0.1", port: 0, on: loop)
            defer { listener.close() }
            let failures = InjectedAcceptFailures(failures: 4)
            listener.acceptSocket = failures.accept
            let client = try await TCPStream.connect(host: "127.0.0.1", port: listener.port, on: loop)
            defer { client.close() }
            // Like a server's accept loop, but with no pause of its own: it calls again at once.
            let (accepted, errors) = await acceptRetryingAtOnce { try await listener.accept() }
            let server = try #require(accepted)
            defer { server.close() }
            // The pending client was kept in the backlog, not reset: it is served.
            try server.write("served after the failures\n")
            let line = try await client.readLine()
            return (listener.port, errors, failures.gaps, failures.calls, line)
        }
        let message = "accept on 127.0.0.1:\(result.port) failed: EMFILE (too many open files)"
        #expect(result.errors == Array(repeating: message, count: 4))
        #expect(result.line == "served after the failures")
        // 4 failures, the connection, and the EAGAIN that ends the batch: no spinning.
        #expect(result.calls <= 6)
        expectDoublingPauses(result.gaps)
    }

    @Test("while accepting keeps failing it tries only a few times, reports once, and resumes once it can")
    func persistentFailureDoesNotSpin() async throws {
        let result = try await onCheckedLoop { loop -> (tries: Int, first: String, then: String) in
            let listener = try TCPListener(host: "127.0.0.1", port: 0, on: loop)
            defer { listener.close() }
            var isOutOfDescriptors = true
            var calls = 0
            listener.acceptSocket = { fd in
                calls += 1
                return isOutOfDescriptors ? -EMFILE : ListeningSocket.accept(fd)
            }
            let client = try await TCPStream.connect(host: "127.0.0.1", port: listener.port, on: loop)
            defer { client.close() }
            // A window to count tries in, not a synchronisation: with a connection pending and
            // nobody calling accept(), a listener that retried at once would try thousands of times.
            try await loop.sleep(for: .milliseconds(200))
            let tries = calls
            isOutOfDescriptors = false
            let first = await outcome { try await listener.accept() }
            var then = ""
            do {
                let server = try await listener.accept()
                then = server.peerAddress == client.localAddress ? "the pending client" : "another connection"
                server.close()
            } catch {
                then = "\(error)"
            }
            return (tries, first, then)
        }
        // Tries at about 0, 5, 15, 35, 75 and 155 ms.
        #expect((2...8).contains(result.tries), "\(result.tries) tries in 200 ms")
        #expect(result.first == "EMFILE")
        #expect(result.then == "the pending client")
    }

    @Test("a connection aborted before it was accepted is skipped silently")
    func abortedConnectionIsRetried() async throws {
        let outcome = try await onLoop { loop -> String in
            let listener = try TCPListener(host: "127.0.0.1", port: 0, on: loop)
            defer { listener.close() }
            var aborted = false
            listener.acceptSocket = { fd in
                if aborted { return ListeningSocket.accept(fd) }
                aborted = true
                return -ECONNABORTED
            }
            let client = try await TCPStream.connect(host: "127.0.0.1", port: listener.port, on: loop)
            defer { client.close() }
            let server = try await listener.accept()
            defer { server.close() }
            return server.peerAddress == client.localAddress ? "accepted" : "wrong connection"
        }
        #expect(outcome == "accepted")
    }

    @Test("accepts at most 16 connections ahead of accept() calls and leaves the rest in the backlog")
    func readyAheadLimit() async throws {
        let result = try await onLoop { loop -> (accepted: Int, ready: Int, isPolling: Bool, allServed: Bool) in
            let listener = try TCPListener(host: "127.0.0.1", port: 0, on: loop)
            defer { listener.close() }
            var accepted = 0
            listener.acceptSocket = { fd in
                let socket = ListeningSocket.accept(fd)
                if socket >= 0 { accepted += 1 }
                return socket
            }
            var clients: [TCPStream] = []
            defer { for client in clients { client.close() } }
            for _ in 0..<40 { clients.append(try await TCPStream.connect(host: "127.0.0.1", port: listener.port, on: loop)) }
            let ahead = (accepted, listener.readyCount, listener.isPolling)
            var servers: [TCPStream] = []
            defer { for server in servers { server.close() } }
            for _ in 0..<40 { servers.append(try await listener.accept()) }
            let allServed = Set(servers.compactMap(\.peerAddress)) == Set(clients.compactMap(\.localAddress))
            return (ahead.0, ahead.1, ahead.2, allServed)
        }
        #expect(TCPListener.readyLimit == 16)
        #expect(result.accepted == 16)
        #expect(result.ready == 16)
        #expect(!result.isPolling, "a full ready queue stops polling")
        #expect(result.allServed)
    }

    @Test("tasks waiting in accept() at the same time each get a connection, in order")
    func concurrentAccepts() async throws {
        let got = try await onLoop { loop -> [Int] in
            let listener = try TCPListener(host: "127.0.0.1", port: 0, on: loop)
            defer { listener.close() }
            var servers: [(Int, TCPStream)] = []
            let acceptors = (0..<3).map { index in
                loop.spawn { servers.append((index, try await listener.accept())) }
            }
            await Task.yield()  // the acceptors run first (the loop's queue is FIFO) and wait
            var clients: [TCPStream] = []
            for _ in 0..<3 { clients.append(try await TCPStream.connect(host: "127.0.0.1", port: listener.port, on: loop)) }
            for acceptor in acceptors { await acceptor.value }
            defer { for stream in clients + servers.map(\.1) { stream.close() } }
            return servers.map(\.0)
        }
        #expect(got == [0, 1, 2])
    }

    @Test("an accept cancelled from another thread ends promptly and the listener stays usable")
    func acceptCancelledFromAnotherThread() async throws {
        let outcome = try await onLoop { loop -> [String] in
            let listener = try TCPListener(host: "127.0.0.1", port: 0, on: loop)
            defer { listener.close() }
            var outcome: [String] = []
            let acceptor = loop.spawn {
                do { _ = try await listener.accept() } catch is CancellationError { outcome.append("cancelled") }
            }
            await Task.yield()  // the acceptor runs first and waits
            await Task.detached { acceptor.cancel() }.value
            await acceptor.value
            let client = try await TCPStream.connect(host: "127.0.0.1", port: listener.port, on: loop)
            let server = try await listener.accept()
            outcome.append(server.peerAddress == client.localAddress ? "accepted" : "wrong connection")
            client.close()
            server.close()
            return outcome
        }
        #expect(outcome == ["cancelled", "accepted"])
    }

    @Test("accepted streams get TCP_NODELAY unless noDelay is false")
    func noDelayOnAcceptedStreams() async throws {
        let flags = try await onLoop { loop -> [Int32] in
            let listener = try TCPListener(host: "127.0.0.1", port: 0, on: loop)
            defer { listener.close() }
            var flags: [Int32] = []
            for noDelay in [true, false] {
                listener.noDelay = noDelay
                let client = try await TCPStream.connect(host: "127.0.0.1", port: listener.port, on: loop)
                let server = try await listener.accept()
                var fd: uv_os_fd_t = -1
                var flag: Int32 = -1
                var length = socklen_t(MemoryLayout<Int32>.size)
                if uv_fileno(asHandle(server.tcp), &fd) == 0 {
                    getsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &flag, &length)
                }
                flags.append(flag)
                client.close()
                server.close()
            }
            return flags
        }
        #expect(flags.count == 2)
        #expect(flags.first != 0)
        #expect(flags.last == 0)
    }

    @Test("listening on :: accepts IPv4 clients too")
    func dualStack() async throws {
        let peer = try await onLoop { loop -> SocketAddress? in
            let listener = try TCPListener(host: "::", port: 0, on: loop)
            defer { listener.close() }
            let client = try await TCPStream.connect(host: "127.0.0.1", port: listener.port, on: loop)
            let server = try await listener.accept()
            defer { close(client, server) }
            return server.peerAddress
        }
        // An IPv4 client on a dual-stack socket shows as an IPv4-mapped IPv6 address.
        #expect(peer?.host == "::ffff:127.0.0.1")
    }

    @Test("close ends the connections accepted ahead and refuses those still in the backlog")
    func closeWithPendingConnections() async throws {
        let outcomes = try await onLoop { loop -> Set<String> in
            let listener = try TCPListener(host: "127.0.0.1", port: 0, on: loop)
            var clients: [TCPStream] = []
            defer { for client in clients { client.close() } }
            for _ in 0..<20 { clients.append(try await TCPStream.connect(host: "127.0.0.1", port: listener.port, on: loop)) }
            listener.close()
            var outcomes: Set<String> = []
            for client in clients { outcomes.insert(await outcome { try await client.readLine() }) }
            return outcomes
        }
        // End of stream for the 16 accepted ahead; a reset for the 4 in the backlog.
        #expect(outcomes == ["nil", "ECONNRESET"])
    }
}
