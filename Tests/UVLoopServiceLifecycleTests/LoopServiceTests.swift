// Built with the ServiceLifecycle trait only (Package.swift): without it this file is empty and
// swift-service-lifecycle is not fetched.
#if ServiceLifecycle
    import Logging
    import ServiceLifecycle
    import Synchronization
    import Testing
    import UVLoop
    import UVLoopServiceLifecycle

    @Suite("LoopService")
    struct LoopServiceTests {
        /// Tells the test when the loop's body is serving, and how its wait ended.
        final class Probe: Sendable {
            let started = Mutex<UnsafeContinuation<Void, Never>?>(nil)
            let outcome = Mutex<String>("running")
            let leftOpen = Mutex<[String]>([])
        }

        @Test("a graceful shutdown of the group stops the loop and cancels its waits")
        func gracefulShutdownStopsTheLoop() async throws {
            let probe = Probe()
            let service = LoopService { loop in
                loop.onOpenHandlesAtShutdown = { handles in probe.leftOpen.withLock { $0 += handles } }
                let listener = try TCPListener(host: "127.0.0.1", port: 0, on: loop)
                defer { listener.close() }
                probe.started.withLock { $0.take() }?.resume()
                do {
                    _ = try await listener.accept()
                    probe.outcome.withLock { $0 = "accepted" }
                } catch is CancellationError {
                    probe.outcome.withLock { $0 = "cancelled" }
                }
            }
            let group = ServiceGroup(services: [service], logger: Logger(label: "test"))
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                await withUnsafeContinuation { continuation in
                    probe.started.withLock { $0 = continuation }
                    tasks.addTask { try await group.run() }
                }
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
            #expect(probe.outcome.withLock { $0 } == "cancelled")
            #expect(probe.leftOpen.withLock { $0 }.isEmpty, "handles left open: \(probe.leftOpen.withLock { $0 })")
        }
    }
#endif
