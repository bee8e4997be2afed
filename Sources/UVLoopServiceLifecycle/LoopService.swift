// Built with the ServiceLifecycle trait only (Package.swift): without it this module is empty and
// swift-service-lifecycle is not fetched.
#if ServiceLifecycle
    import ServiceLifecycle
    import Synchronization
    import UVLoop

    /// A UVLoop loop as a swift-service-lifecycle `Service`: it runs `body` on a loop of its own
    /// thread, and a graceful shutdown of its `ServiceGroup` (SIGTERM, say) stops the loop — which
    /// cancels the loop's tasks, so `body`'s waits throw `CancellationError` and it can clean up.
    ///
    /// ```swift
    /// let chat = LoopService { loop in
    ///     let server = try TCPListener(host: "0.0.0.0", port: 3000, on: loop)
    ///     for try await client in server.connections { loop.spawn { try await serve(client) } }
    /// }
    /// let group = ServiceGroup(services: [chat], gracefulShutdownSignals: [.sigterm], logger: logger)
    /// try await group.run()
    /// ```
    public struct LoopService: Service {
        private let body: @Sendable (Loop) async throws -> Void

        /// Creates a service that runs `body` on a new loop when the group runs it.
        public init(_ body: @escaping @Sendable (Loop) async throws -> Void) {
            self.body = body
        }

        /// Runs the loop until `body` returns or a graceful shutdown (or cancellation) stops it.
        public func run() async throws {
            let stopper = LoopStopper()
            let body = body
            try await withGracefulShutdownHandler {
                try await withTaskCancellationHandler {
                    try await Loop.runOnNewThread { loop in
                        stopper.attach(loop)
                        try await body(loop)
                    }
                } onCancel: {
                    stopper.stop()
                }
            } onGracefulShutdown: {
                stopper.stop()
            }
        }
    }

    /// Hands a stop request to a loop that may not exist yet: one asked to stop early is stopped as
    /// soon as it attaches.
    private final class LoopStopper: Sendable {
        private let state = Mutex<(loop: Loop?, isStopRequested: Bool)>((nil, false))

        func attach(_ loop: Loop) {
            let stopNow = state.withLock { state -> Bool in
                state.loop = loop
                return state.isStopRequested
            }
            if stopNow { loop.stop() }
        }

        func stop() {
            let loop = state.withLock { state -> Loop? in
                state.isStopRequested = true
                return state.loop
            }
            loop?.stop()
        }
    }
#endif
