import UVLoop

/// One connection to a Redis server: commands written in order, replies matched to them in
/// the same order by a reader task. Belongs to one loop.
///
/// Any failure — the server closing, a reset, bytes that are not RESP, an unexpected reply —
/// closes it and fails every command in flight with the same error; `onFailure` then reports
/// it once. Nothing is retried here: a ``RedisClient`` opens a new connection.
final class RedisConnection {
    let stream: any ByteStream
    let loop: Loop
    /// `host:port`, for messages.
    let endpoint: String
    private var decoder: RESPDecoder
    private var pending = FIFOQueue<PendingReply>()
    /// Set once the connection failed or was closed; new commands fail with it.
    private(set) var failure: RedisError?
    private var reader: SpawnedTask?
    /// Set while a sender waits in the stream's `drain` (it allows one waiter at a time).
    private var draining: Event?

    /// Called for each reply before it is matched to a command; returning true consumes it.
    /// Subscriptions use it for `message` and `subscribe` pushes; waiting in it stops reading.
    var onPush: ((RESPValue) async -> Bool)?
    /// Called once when the connection fails (not when ``close()`` is called).
    var onFailure: ((RedisError) -> Void)?

    init(stream: any ByteStream, endpoint: String, limits: RESPDecoder.Limits) {
        self.stream = stream
        self.loop = stream.loop
        self.endpoint = endpoint
        decoder = RESPDecoder(limits: limits)
    }

    /// Starts the reader task.
    func start() {
        reader = loop.spawn { [self] in await readReplies() }
    }

    /// Number of commands written whose reply has not arrived.
    var inFlightCount: Int { pending.count }

    /// Writes a command and returns its place in the reply order. Never waits: the write is
    /// queued and the reply is matched when it arrives.
    func enqueue(_ chunks: [Bytes]) throws(RedisError) -> PendingReply {
        try write(chunks)
        let reply = PendingReply(loop: loop)
        pending.append(reply)
        return reply
    }

    /// Writes a command that gets no reply of its own (SUBSCRIBE: its confirmations are pushes).
    func write(_ chunks: [Bytes]) throws(RedisError) {
        if let failure { throw failure }
        do {
            for chunk in chunks { try stream.write(chunk) }
        } catch {
            let failed = RedisError.connection("redis \(endpoint): \(Self.reason(error))")
            fail(failed)
            throw failed
        }
    }

    /// Waits while the stream's write queue is over its high water mark. Many senders may
    /// call it at once: one waits in the stream's `drain`, the others for it.
    func drain() async throws {
        while let draining { try await draining.wait() }
        let gate = Event(on: loop)
        draining = gate
        defer {
            draining = nil
            gate.set()
        }
        try await stream.drain()
    }

    /// Closes the stream and fails what is in flight with `error`, reporting it to `onFailure`.
    func fail(_ error: RedisError) {
        guard failure == nil else { return }
        shutDown(error)
        onFailure?(error)
    }

    /// Closes the connection on purpose: commands in flight fail with ``RedisError/closed``.
    func close() {
        guard failure == nil else { return }
        shutDown(.closed)
    }

    private func shutDown(_ error: RedisError) {
        failure = error
        stream.close()
        reader?.cancel()
        while let reply = pending.popFirst() { reply.fulfil(.failure(error)) }
    }

    private func readReplies() async {
        do {
            while failure == nil, let chunk = try await stream.read() {
                decoder.append(chunk)
                while failure == nil, let value = try decoder.next() {
                    await deliver(value)
                }
            }
            fail(.connection("redis \(endpoint): connection closed by the server"))
        } catch let error as RESPProtocolError {
            fail(.protocolViolation("redis \(endpoint): \(error.reason); connection closed"))
        } catch {
            fail(.connection("redis \(endpoint): \(Self.reason(error))"))
        }
    }

    private func deliver(_ value: RESPValue) async {
        if let onPush, await onPush(value) { return }
        guard let reply = pending.popFirst() else {
            fail(.protocolViolation("redis \(endpoint): reply \(value) with no command waiting for it; connection closed"))
            return
        }
        reply.fulfil(.success(value))
    }

    /// A short reason for a failure to connect or a lost connection: `connection refused`.
    static func reason(_ error: any Error) -> String {
        switch error {
        case let error as UVError where error.isClosed: "connection closed"
        case let error as UVError where error.code == UVError.Code.endOfFile: "connection closed by the server"
        case let error as UVError: error.message
        case let error as TimeoutError: "connect \(error)"
        case let error as RedisError: error.description
        case is CancellationError: "cancelled"
        default: "\(error)"
        }
    }
}
