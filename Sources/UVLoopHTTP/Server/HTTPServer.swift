/// An HTTP/1.1 server: persistent connections, pipelining, streamed bodies both ways with
/// backpressure, `Expect: 100-continue`, `HEAD`, HTTP/1.0 clients, timeouts and graceful
/// shutdown. It serves connections from any `ConnectionSource` (TCP, Unix sockets, or
/// TLS: `TLSListener`), each on its own task of the source's loop; the handler runs on that task,
/// with no thread hop.
///
/// ```swift
/// try Loop.run { loop in
///     var router = Router()
///     router.get("/") { _, _ in .text("hello\n") }
///     router.get("/users/:id") { _, context in .text("user \(context.parameters["id"] ?? "")\n") }
///     let listener = try TCPListener(host: "127.0.0.1", port: 8080, on: loop)
///     let server = HTTPServer(router: router)
///     loop.spawn {
///         _ = try await loop.waitForSignal([.interrupt, .terminate])
///         server.shutdown()
///     }
///     try await server.run(on: listener)
/// }
/// ```
///
/// A server belongs to the loop it runs on: call ``run(on:)`` and ``shutdown()`` from that
/// loop's tasks. Timeouts are checked four times a second, so they fire up to 250 ms late.
public final class HTTPServer {
    /// A request handler: a plain `async` function of the request and its context.
    public typealias Handler = (HTTPServerRequest, HTTPRequestContext) async throws -> HTTPServerResponse
    /// A request handler that answers without waiting: a closure without `await` is taken as
    /// one. For a request without a body it runs where the request is read, in the loop's read
    /// callback, so the connection's task is not resumed (about a fifth of the instructions of
    /// a request); other requests call it on the connection's task. It runs on the loop's
    /// thread either way, like every handler, but outside any task when it runs at once:
    /// task-local values and cancellation are not there to read.
    public typealias SynchronousHandler = (HTTPServerRequest, HTTPRequestContext) throws -> HTTPServerResponse

    /// The limits and timeouts.
    public let configuration: HTTPServerConfiguration
    let handler: Handler
    /// `handler`, when the server was made with a synchronous one (without a router).
    let synchronousHandler: SynchronousHandler?
    /// The router, for a server made with one: connections then call its handlers directly.
    let router: Router?
    /// The router's exact paths while they are few: most requests are routed by them alone.
    let listedPaths: Router.ListedPaths?

    /// Open connections, each knowing its index here (removal swaps in the last).
    private var connections: [HTTPServerConnection] = []
    // @exclusivity(unchecked) here and below: loop-thread state, and no access to
    // it spans a call that could reach it again, so the runtime's dynamic checks cannot fire
    // (each would cost a check per request).
    /// Quarter seconds since ``run(on:)`` started: the clock of every deadline.
    @exclusivity(unchecked) private(set) var tick = 0
    static let tickInterval = Duration.milliseconds(250)
    @exclusivity(unchecked) private(set) var date = HTTPDateCache()
    /// Requests begun on this server: each request's number, unique across its connections.
    @exclusivity(unchecked) var requestCount = 0
    /// The `HTTPRequest` a handler last asked for, under its request's number (removed when
    /// that response is done).
    @exclusivity(unchecked) var cachedHead: (generation: Int, head: HTTPRequest)?
    /// Scratch space for heads: every head is made and copied out before any wait.
    @exclusivity(unchecked) var headWriter = HTTPHeadWriter(capacity: 1024)
    /// Connections whose task waits for their next request (`HTTPServerConnection.nextRequestArrives`),
    /// and at most how many may: past it, a connection parks as soon as it is idle.
    @exclusivity(unchecked) var waitingTasks = 0
    static let maxWaitingTasks = 1024
    /// The timeouts in ticks.
    let headerTicks: Int
    let idleTicks: Int
    let bodyTicks: Int
    /// True once ``shutdown()`` was called.
    @exclusivity(unchecked) public private(set) var isShuttingDown = false
    private var shutdownTick = Int.max
    private var closeSource: (() -> Void)?
    private var drained: Event?

    /// A server that answers with `router`.
    public convenience init(router: Router, configuration: HTTPServerConfiguration = HTTPServerConfiguration()) {
        self.init(
            configuration: configuration, handler: { request, context in try await router.handle(request, context: context) },
            synchronousHandler: nil, router: router)
    }

    /// A server that answers every request with `handler`.
    public convenience init(configuration: HTTPServerConfiguration = HTTPServerConfiguration(), handler: @escaping Handler) {
        self.init(configuration: configuration, handler: handler, synchronousHandler: nil, router: nil)
    }

    /// A server that answers every request with `handler`, which answers without waiting.
    public convenience init(
        configuration: HTTPServerConfiguration = HTTPServerConfiguration(), handler: @escaping SynchronousHandler
    ) {
        self.init(
            configuration: configuration, handler: { request, context in try handler(request, context) },
            synchronousHandler: handler, router: nil)
    }

    private init(
        configuration: HTTPServerConfiguration, handler: @escaping Handler, synchronousHandler: SynchronousHandler?,
        router: Router?
    ) {
        self.configuration = configuration
        self.handler = handler
        self.synchronousHandler = synchronousHandler
        self.router = router
        listedPaths = router?.listed
        headerTicks = Self.ticks(configuration.headerTimeout)
        idleTicks = Self.ticks(configuration.idleTimeout)
        bodyTicks = Self.ticks(configuration.bodyTimeout)
    }

    func takeHeadWriter() -> HTTPHeadWriter {
        var writer = HTTPHeadWriter(capacity: 0)
        swap(&writer, &headWriter)
        return writer
    }

    /// The number of open connections.
    public var connectionCount: Int { connections.count }

    /// Accepts connections from `source` and serves each until ``shutdown()`` (or the
    /// cancellation of the calling task, which closes every connection at once); returns once
    /// every connection is closed. Call it from a task of the source's loop.
    public func run<Source: HTTPConnectionSource>(on source: Source) async throws {
        guard let loop = Loop.current else { throw HTTPServerError("HTTPServer.run must be called from a loop's task") }
        closeSource = { source.close() }
        drained = Event(on: loop)
        date.update()
        let clock = loop.spawn { [self] in
            for try await _ in loop.ticks(every: Self.tickInterval) { sweep() }
        }
        defer { clock.cancel() }
        while true {
            let stream: Source.Connection
            do {
                stream = try await source.accept()
            } catch {
                if source.isClosed || isShuttingDown || Task.isCancelled { break }
                continue  // EMFILE and the like: the source paces the retries.
            }
            if isShuttingDown {
                stream.close()
                break
            }
            let connection = HTTPServerConnection(stream: stream, server: self)
            connection.index = connections.count
            connections.append(connection)
            connection.waitIdle()
        }
        if Task.isCancelled {
            source.close()
            for connection in connections { connection.stream.close() }
        }
        shutdown()
        while !connections.isEmpty {
            // Cancellation ends this wait only: the connections were closed above.
            try? await drained?.wait()
            if Task.isCancelled { break }
        }
    }

    /// Stops accepting, closes idle connections, lets requests in flight finish (their
    /// responses say `Connection: close`) and closes whatever is left after
    /// ``HTTPServerConfiguration/shutdownGracePeriod``. ``run(on:)`` returns once all are closed.
    public func shutdown() {
        guard !isShuttingDown else { return }
        isShuttingDown = true
        shutdownTick = deadline(after: configuration.shutdownGracePeriod)
        closeSource?()
        for connection in connections where connection.isIdle { connection.stream.close() }
        if connections.isEmpty { drained?.set() }
    }

    func remove(_ connection: HTTPServerConnection) {
        let index = connection.index
        guard index >= 0, index < connections.count, connections[index] === connection else { return }
        let last = connections.removeLast()
        if index < connections.count {
            connections[index] = last
            last.index = index
        }
        connection.index = -1
        if isShuttingDown && connections.isEmpty { drained?.set() }
    }

    /// The tick by which something started now must be done, `duration` from now.
    func deadline(after duration: Duration) -> Int {
        tick + Self.ticks(duration) + 1
    }

    /// The tick by which something started now must be done, `ticks` ticks from now.
    @inline(__always)
    func deadline(afterTicks ticks: Int) -> Int { tick + ticks + 1 }

    /// `duration` in ticks, rounded up, at least one.
    static func ticks(_ duration: Duration) -> Int {
        let quarter = tickInterval.components.attoseconds / 1_000_000_000
        let (seconds, attoseconds) = duration.components
        return max(1, Int(seconds) * 4 + Int((attoseconds / 1_000_000_000 + quarter - 1) / quarter))
    }

    /// Runs every tick: advances the clock, refreshes the date, closes the connections whose
    /// deadline passed (a pending read then throws, which ends the connection's task), and
    /// parks those whose task has waited for a next request since before the last tick.
    private func sweep() {
        tick += 1
        date.update()
        let forceClose = tick >= shutdownTick
        var index = 0
        while index < connections.count {
            let connection = connections[index]
            if connection.deadline <= tick || forceClose {
                connection.stream.close()
            } else {
                connection.park(before: tick - 1)
            }
            index += 1
        }
    }
}

/// A misuse of the HTTP API, with what was wrong.
public struct HTTPServerError: Error, Sendable, CustomStringConvertible {
    /// What was wrong.
    public let description: String
    init(_ description: String) { self.description = description }
}
