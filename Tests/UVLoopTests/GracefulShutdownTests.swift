import Testing
import UVLoop
import UVLoopTestSupport

#if canImport(Glibc)
    import Glibc
#endif

@Suite("GracefulShutdown", .serialized)
struct GracefulShutdownTests {
    @Test("a real signal is caught, not fatal, and wakes wait()")
    func catchesSignal() async throws {
        let signal = try await onLoop { loop -> Signal in
            let shutdown = try GracefulShutdown(on: loop, signals: [.user2])
            defer { shutdown.close() }
            kill(getpid(), SIGUSR2)
            return try await shutdown.wait()
        }
        #expect(signal == .user2)
    }

    @Test("onShutdownSignal runs its action once, at the first signal, and ends the listener's connections")
    func onShutdownSignal() async throws {
        let result = try await onLoop { loop -> ([Signal], Int, [Signal]) in
            let server = try TCPListener(host: "127.0.0.1", port: 0, on: loop)
            var actions: [Signal] = []
            // SIGUSR2 stands in for SIGTERM, which would also reach the other tests' servers.
            let shutdown = try loop.onShutdownSignal([.user2]) { signal in
                actions.append(signal)
                server.close()
            }
            defer { shutdown.close() }
            let client = try await TCPStream.connect(host: "127.0.0.1", port: server.port, on: loop)
            defer { client.close() }
            var accepted = 0
            for try await connection in server.connections {
                accepted += 1
                connection.close()
                kill(getpid(), SIGUSR2)
            }
            _ = try await shutdown.wait()
            shutdown.trigger(.interrupt)  // a second signal runs no action again
            // An action added after the signal runs at once.
            var late: [Signal] = []
            shutdown.onSignal { late.append($0) }
            return (actions, accepted, late)
        }
        #expect(result.0 == [.user2])
        #expect(result.1 == 1)
        #expect(result.2 == [.user2])
    }

    @Test("trigger wakes every waiter; later waits return at once")
    func trigger() async throws {
        let seen = try await onLoop { loop -> [Signal] in
            let shutdown = try GracefulShutdown(on: loop, signals: [.user1])
            defer { shutdown.close() }
            var seen: [Signal] = []
            let first = loop.spawn { seen.append(try await shutdown.wait()) }
            let second = loop.spawn { seen.append(try await shutdown.waitForSignal(number: 2)) }
            shutdown.trigger(.interrupt)
            await first.value
            shutdown.trigger(.terminate)
            await second.value
            seen.append(try await shutdown.wait())
            #expect(shutdown.received == [.interrupt, .terminate])
            return seen
        }
        #expect(seen == [.interrupt, .terminate, .interrupt])
    }

    @Test("close() ends a wait with CancellationError")
    func closeCancelsWaiters() async throws {
        let cancelled = try await onLoop { loop -> Bool in
            let shutdown = try GracefulShutdown(on: loop, signals: [.user1])
            var cancelled = false
            let waiter = loop.spawn {
                do { _ = try await shutdown.wait() } catch is CancellationError { cancelled = true }
            }
            try await loop.sleep(for: .zero)
            shutdown.close()
            await waiter.value
            return cancelled
        }
        #expect(cancelled)
    }

    @Test("close(ignoringSignals:) leaves the signal ignored: it no longer ends the process")
    func closeIgnoringSignals() async throws {
        let survived = try await onLoop { loop -> Bool in
            let shutdown = try GracefulShutdown(on: loop, signals: [.user1])
            shutdown.close(ignoringSignals: true)
            kill(getpid(), SIGUSR1)  // with the default action this would end the test run
            try await loop.sleep(for: .milliseconds(1))
            return shutdown.received.isEmpty
        }
        #expect(survived)
    }

    @Test("flush returns once everything queued was written")
    func flushesEverything() async throws {
        let result = try await onLoop { loop -> (Int, String?) in
            let (client, server) = try await connectedPair(on: loop)
            defer { close(client, server) }
            let shutdown = try GracefulShutdown(on: loop, signals: [.user1])
            defer { shutdown.close() }
            try server.write("last words\n")
            let left = await shutdown.flush([server], within: .seconds(10))
            return (left.count, try await client.readLine())
        }
        #expect(result.0 == 0)
        #expect(result.1 == "last words")
    }

    /// Fills a non-reading peer's socket buffers and more.
    func overfill(_ stream: TCPStream) throws {
        let chunk = Bytes([UInt8](repeating: 0x78, count: 1024 * 1024))
        for _ in 0..<16 { try stream.write(chunk) }
    }

    @Test("flush gives up after its timeout and names the streams left behind")
    func flushTimesOut() async throws {
        let left = try await onLoop { loop -> Int in
            let (client, server) = try await connectedPair(on: loop)
            defer { close(client, server) }
            let shutdown = try GracefulShutdown(on: loop, signals: [.user1])
            defer { shutdown.close() }
            try overfill(server)
            let left = await shutdown.flush([server], within: .milliseconds(50))
            #expect(left.first === server)
            return left.count
        }
        #expect(left == 1)
    }

    @Test("a second signal cuts the flush short")
    func secondSignalEndsFlush() async throws {
        let elapsed = try await onLoop { loop -> Duration in
            let (client, server) = try await connectedPair(on: loop)
            defer { close(client, server) }
            let shutdown = try GracefulShutdown(on: loop, signals: [.user1])
            defer { shutdown.close() }
            shutdown.trigger(.terminate)
            try overfill(server)
            loop.spawn { shutdown.trigger(.interrupt) }
            let started = ContinuousClock.now
            let left = await shutdown.flush([server], within: .seconds(60))
            #expect(left.count == 1)
            return ContinuousClock.now - started
        }
        #expect(elapsed < .seconds(30))
    }
}
