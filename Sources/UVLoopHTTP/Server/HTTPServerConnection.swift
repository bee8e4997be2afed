/// One connection of an ``HTTPServer``: reads requests in order, runs the handler on this
/// connection's task, writes each response before reading the next request's body.
///
/// A request without a body whose handler is synchronous is answered where it is read: in
/// the stream's readable callback (``answerReady()``), while the task waits or when there is
/// none, so the task is not resumed. Whatever that cannot finish (another handler, a body, a
/// streamed response, a close, a drain) is left in ``readyHead``, ``readyResponse`` or
/// ``readyQueued`` for the task, which takes them before reading on: the responses stay in
/// order.
///
/// Its deadline (in server ticks) is what the server's clock checks: the header timeout while
/// a head arrives, the idle timeout between requests, the body timeout while a body read or
/// a response write waits, none while the handler runs.
final class HTTPServerConnection {
    let stream: any ByteStream
    /// `stream` when it is a ``Stream`` (TCP, Unix sockets): its `read` and `drain` are then
    /// called directly, without the executor switch a call of the protocol's (concurrent)
    /// requirements costs on entry and on return.
    private let plain: Stream?
    let server: HTTPServer
    // @exclusivity(unchecked): used on the loop's thread only, and no access to it spans a call
    // that could reach it again, so the runtime's dynamic exclusivity checks cannot fire.
    @exclusivity(unchecked) var parser: HTTPParser
    /// Position in the server's connection list.
    var index = -1
    var deadline: Int
    /// True while waiting for a request of which no byte has arrived.
    var isIdle = true
    /// True if the deadline is the idle timeout (else the header timeout runs from accept).
    private var isKeepAliveWait = false
    /// The current request's number (``HTTPServer/requestCount``), so that a body iterator
    /// kept past its request reads nothing, and a cached head is never another request's.
    // @exclusivity(unchecked) on these too (see `parser`): read after the handler returns,
    // they cost a dynamic exclusivity check per request otherwise.
    @exclusivity(unchecked) private var generation = 0
    @exclusivity(unchecked) private var isBodyOpen = false
    @exclusivity(unchecked) private var isContinuePending = false
    @exclusivity(unchecked) private var bodyError: HTTPParseError?
    /// The head of a streamed response, held until the first body write so that both go
    /// out together, and so that a request body found malformed before it can still get its 400.
    var pendingHead: Bytes?
    /// The connection's task, while it waits for the next request (``nextRequestArrives()``).
    private var wakeUp: UnsafeContinuation<Bool, Never>?
    /// The server tick at which that wait began.
    private var waitTick = 0
    /// Set by a response that takes the connection over; run then hands it the stream.
    private var takeOverHandler: ((any ByteStream, Bytes) async -> Void)?
    // @exclusivity(unchecked) on the four below as on `parser`: checked on every request.
    /// A head the readable callback parsed for a synchronous handler but left to the task (it has a body).
    @exclusivity(unchecked) private var readyHead: HTTPRawHead?
    /// A synchronous handler's response the readable callback could not write whole (a
    /// streamed body, a protocol upgrade): the task writes it. A class: it is rare, and the
    /// connection stays small.
    @exclusivity(unchecked) private var readyResponse: ReadyResponse?
    /// The listed path (``Router/ListedPaths/index(target:)``) of the next head, found by the
    /// readable callback for a handler it left to the task; -1 if not looked up.
    @exclusivity(unchecked) private var readyRoute = -1
    /// A response queued by the readable callback after which the task must drain or close:
    /// whether the connection stays open.
    @exclusivity(unchecked) private var readyQueued: Bool?

    private final class ReadyResponse {
        let response: HTTPServerResponse
        let version: HTTPVersion
        let isHead: Bool
        let keepAlive: Bool

        init(_ response: HTTPServerResponse, version: HTTPVersion, isHead: Bool, keepAlive: Bool) {
            self.response = response
            self.version = version
            self.isHead = isHead
            self.keepAlive = keepAlive
        }
    }

    private static let continueLine: Bytes = "HTTP/1.1 100 Continue\r\n\r\n"

    init(stream: any ByteStream, server: HTTPServer) {
        self.stream = stream
        plain = stream as? Stream
        self.server = server
        parser = HTTPParser(kind: .request, limits: server.configuration.limits)
        deadline = server.deadline(afterTicks: server.headerTicks)
    }

    nonisolated(nonsending) func run() async {
        var isHandedOver = false
        defer {
            if !isHandedOver {
                stream.close()
                server.remove(self)
            }
        }
        while true {
            let staysOpen: Bool
            if let keepAlive = readyQueued.take() {
                staysOpen = await finishQueued(keepAlive: keepAlive)
            } else if let ready = readyResponse.take() {
                staysOpen =
                    (try? await write(ready.response, version: ready.version, isHead: ready.isHead, keepAlive: ready.keepAlive))
                    ?? false
            } else {
                let head: HTTPRawHead
                do {
                    // Most heads are complete in what has arrived: taken without an async call.
                    // Not `??`: its generic autoclosure copies the head through value witnesses.
                    if let ready = readyHead.take() {
                        head = ready
                    } else if let ready = try headInBuffer() {
                        head = ready
                    } else {
                        guard let next = try await readHead() else { return }
                        head = next
                    }
                } catch let error as HTTPParseError {
                    if error.kind != .incomplete { await sendError(status: error.status, reason: error.reason) }
                    return
                } catch {
                    return
                }
                isIdle = false
                staysOpen = await respond(to: consume head)
            }
            if let handler = takeOverHandler {
                // The connection leaves the server: its timeouts, shutdown and close are the new
                // owner's, which may keep it open after returning (a session waiting without a task).
                takeOverHandler = nil
                isHandedOver = true
                server.remove(self)
                await Self.takeOver(LoopBound((handler, stream, parser.takeBuffered())))
                return
            }
            guard staysOpen, !server.isShuttingDown else {
                await closeGracefully()
                return
            }
            isIdle = parser.isIdle
            isKeepAliveWait = isIdle
            deadline = server.deadline(afterTicks: isIdle ? server.idleTicks : server.headerTicks)
            if isIdle {
                // The task waits for the next request while requests keep coming (a new task
                // per request would cost its creation and regrow its allocator's slabs); once
                // the connection stays idle through a clock tick, it is parked: this task ends,
                // and the next request's first bytes start another, so an idle connection
                // holds no task (PERFORMANCE.md, HTTP).
                if await nextRequestArrives() { continue }
                isHandedOver = true
                waitIdle()
                return
            }
        }
    }

    /// Waits in this task until the stream is readable (`true`), or until the server's clock
    /// parks the connection (`false`, see ``park(before:)``). `false` at once for a stream
    /// without ``ByteStream/whenReadable(_:)``: ``waitIdle()`` then waits in a fresh task.
    private nonisolated(nonsending) func nextRequestArrives() async -> Bool {
        // Bounded: thousands of connections each making one request would otherwise all hold
        // a task until the next tick, a peak the process keeps as heap.
        guard server.waitingTasks < HTTPServer.maxWaitingTasks else { return false }
        server.waitingTasks += 1
        defer { server.waitingTasks -= 1 }
        waitTick = server.tick
        // The stdlib's executor-inheriting form: `withUnsafeContinuation(isolation:)` first
        // checks the executor (a lock in the runtime, ~300 instructions a request); this function
        // is already on the loop, where the closure must run, and the check after the wait stays.
        return await _unsafeInheritExecutor_withUnsafeContinuation { continuation in
            wakeUp = continuation
            // Captures only `self`. Runs at once if bytes are buffered already.
            if !stream.whenReadable({ [self] in readableWhileWaiting() }) {
                wakeUp.take()?.resume(returning: false)
            }
        }
    }

    /// The readable callback while the task waits: answers what it can (``answerReady()``)
    /// and waits again, else resumes the task.
    private func readableWhileWaiting() {
        if answerReady() {
            // Answered, so not idle through the coming tick (``park(before:)``).
            waitTick = server.tick
            // Calls at once (then resumes the task) if the stream ended meanwhile.
            if stream.whenReadable({ [self] in readableWhileWaiting() }) { return }
        }
        wakeUp.take()?.resume(returning: true)
    }

    /// Called by the server's clock: ends the wait of ``nextRequestArrives()`` if it began
    /// before `tick` (the connection has been idle for a tick or more).
    func park(before tick: Int) {
        guard wakeUp != nil, waitTick < tick else { return }
        wakeUp.take()?.resume(returning: false)
    }

    /// Waits for the next request without a task where the stream can (``ByteStream/whenReadable(_:)``),
    /// else in a fresh task: the handler's frames grew this task's allocator, which keeps its
    /// slabs until the task ends.
    func waitIdle() {
        // Work the readable callback left while the task was being parked needs the task: the
        // stream, whose bytes it took, may not call again.
        if readyHead != nil || readyResponse != nil || readyQueued != nil || parser.bufferedByteCount > 0 {
            stream.loop.spawn { [self] in await run() }
            return
        }
        // Each closure captures only `self`, which is then its context: no allocation.
        if !stream.whenReadable({ [self] in readableWhileParked() }) {
            stream.loop.spawn { [self] in await run() }
        }
    }

    /// The readable callback of a connection without a task: answers what it can
    /// (``answerReady()``) and waits again, else starts a task.
    private func readableWhileParked() {
        // Calls at once (then starts the task) if the stream ended meanwhile.
        if answerReady(), stream.whenReadable({ [self] in readableWhileParked() }) { return }
        stream.loop.spawn { [self] in await run() }
    }

    /// Answers, in order, the requests that have arrived whose handlers are synchronous
    /// (``answerAtOnce(_:)``). True if all were answered and the connection waits for the
    /// next as before; false if the task must go on: with what was left for it, with a head
    /// still arriving, an error the parser keeps, or the end of the stream.
    private func answerReady() -> Bool {
        // Only a `Stream`'s buffered bytes can be taken without waiting.
        guard let plain else { return false }
        var answered = false
        while true {
            if let buffered = plain.readBuffered() { received(buffered) }
            if answered && parser.isIdle { break }
            // Chosen from the request line before the head is parsed: a head left to the task
            // is parsed there, once (a parsed head kept for it cost ~1,000 instructions).
            guard let (method, handler) = synchronousHandlerOfNextRequest() else { return false }
            let next: HTTPRawHead?
            do {
                next = try parser.nextHead()
            } catch {
                return false  // the parser throws it again to the task, which answers it
            }
            // Without a whole head, the task reads the rest.
            guard let head = next, answerAtOnce(head, method: method, handler: handler) else { return false }
            answered = true
        }
        // The responses go to the socket now, as each connection's requests are read, rather
        // than with every other stream's at the end of the loop's iteration: a response would
        // otherwise wait for the rest of the iteration's reads (p95-p99 latency, PERFORMANCE.md).
        plain.sendQueued()
        // As the task's loop leaves a kept-alive connection after a response.
        isIdle = true
        isKeepAliveWait = true
        deadline = server.deadline(afterTicks: server.idleTicks)
        return true
    }

    /// The method of the request whose head comes next and its handler, if that handler is
    /// synchronous: a listed path's route, or the server's only handler.
    private func synchronousHandlerOfNextRequest() -> (HTTPRequest.Method, HTTPServer.SynchronousHandler)? {
        let listed = server.listedPaths
        // A server's only handler (no router), else one of the listed routes'.
        let only = server.router == nil ? server.synchronousHandler : nil
        // Before the peek: is there a synchronous handler to find?
        guard listed?.hasSynchronousHandlers ?? (only != nil),
            let (methodBytes, target) = parser.peekRequestLine(),
            let method = HTTPRequestConversion.method(methodBytes)
        else { return nil }
        guard let listed else { return only.map { (method, $0) } }
        guard let index = listed.index(target: target) else { return nil }
        guard let handler = listed.synchronousHandler(at: index, method: method) else {
            readyRoute = index  // the task need not look it up again
            return nil
        }
        return (method, handler)
    }

    /// Answers `head` (of a `method` request) at once with `handler` if it has no body: runs
    /// the handler and queues the response. False if the task must go on: the head, or the
    /// response still to write or to drain, is left for it.
    private func answerAtOnce(
        _ head: consuming HTTPRawHead, method: HTTPRequest.Method, handler: HTTPServer.SynchronousHandler
    ) -> Bool {
        guard head.framing == .none else {
            readyHead = consume head
            return false
        }
        let head = head  // see respond(to:)
        isIdle = false
        begin(head)
        defer { if server.cachedHead?.generation == generation { server.cachedHead = nil } }
        let version = head.version
        let isKeepAlive = head.isKeepAlive
        let isHead = method == .head
        let request = HTTPServerRequest(
            raw: consume head, method: method, body: HTTPRequestBody(connection: self, generation: generation))
        var response: HTTPServerResponse
        do {
            response = try handler(request, HTTPRequestContext(loop: stream.loop, stream: stream))
        } catch {
            response = .text("internal server error\n", status: .internalServerError)
        }
        // After the handler, which may have begun the shutdown.
        let keepAlive = isKeepAlive && !server.isShuttingDown
        do {
            guard try queueWhole(response, version: version, isHead: isHead, keepAlive: keepAlive) else {
                readyResponse = ReadyResponse(response, version: version, isHead: isHead, keepAlive: keepAlive)
                return false
            }
        } catch {
            readyQueued = false
            return false
        }
        if !keepAlive || needsDrain {
            readyQueued = keepAlive
            return false
        }
        return true
    }

    /// After a response queued in the readable callback: waits while the client lags, then
    /// tells whether the connection stays open.
    private nonisolated(nonsending) func finishQueued(keepAlive: Bool) async -> Bool {
        guard needsDrain else { return keepAlive }
        do {
            try await drain()
        } catch {
            return false
        }
        return keepAlive
    }

    /// The next head, if the parser holds it or completes it with the bytes the stream has
    /// buffered; nil if more must be read (``readHead()``).
    private func headInBuffer() throws(HTTPParseError) -> HTTPRawHead? {
        if let head = try parser.nextHead() { return head }
        guard let buffered = plain?.readBuffered() else { return nil }
        received(buffered)
        return try parser.nextHead()
    }

    /// Reads until a whole head has arrived; `nil` if the client closed between requests.
    private nonisolated(nonsending) func readHead() async throws -> HTTPRawHead? {
        while true {
            if let head = try parser.nextHead() { return head }
            let next: Bytes?
            if let buffered = plain?.readBuffered() {
                next = buffered  // no `await`: see readStream
            } else {
                next = try await readStream()
            }
            guard let bytes = next else {
                _ = try parser.finish()
                return nil
            }
            received(bytes)
        }
    }

    /// Hands bytes of a head to the parser; the header timeout replaces the idle one.
    private func received(_ bytes: Bytes) {
        if isKeepAliveWait {
            isKeepAliveWait = false
            deadline = server.deadline(afterTicks: server.headerTicks)
        }
        isIdle = false
        parser.append(bytes)
    }

    /// Runs the handler and writes its response; returns whether the connection stays open.
    /// `head` moves into the request the handler gets: a copy would cost a retain and a release
    /// of each of its references.
    private nonisolated(nonsending) func respond(to head: consuming HTTPRawHead) async -> Bool {
        // Moved into a `let`: a `consuming` parameter is mutable, so each use borrowed a copy
        // of it (two copies of the head per request).
        let head = head
        begin(head)
        let version = head.version
        let isKeepAlive = head.isKeepAlive
        // The `HTTPRequest` is built only if the handler asks for it (``head(of:method:generation:)``).
        defer { if server.cachedHead?.generation == generation { server.cachedHead = nil } }
        // Not a throwing call: around one, the head was retained and released.
        guard let method = HTTPRequestConversion.method(head.method) else {
            await sendError(status: 400, reason: "invalid method")
            return false
        }
        // Found from the head before it moves.
        let listedHandler: HTTPServer.Handler?
        if readyRoute >= 0 {
            listedHandler = server.listedPaths?.handler(at: readyRoute, method: method)
            readyRoute = -1
        } else {
            listedHandler = server.listedPaths?.handler(target: head.target, method: method)
        }
        // nonisolated(unsafe): the handler runs on this task, on the connection's loop (the task
        // prefers the loop's executor), so the request is not used by two threads at once.
        nonisolated(unsafe) let request = HTTPServerRequest(
            raw: consume head, method: method, body: HTTPRequestBody(connection: self, generation: generation))
        let isHead = method == .head
        let context = HTTPRequestContext(loop: stream.loop, stream: stream)
        var response: HTTPServerResponse
        do {
            // Not `??`: a closure through a generic function gets a thunk, an allocation per request.
            var handler = server.handler
            var resolved = context
            // Optional chaining resolves on the stored router, without copying it.
            if let found = listedHandler {
                handler = found
            } else if let routed = server.router?.resolve(request, context: context) {
                (handler, resolved) = routed
            }
            // Safe as `request` above.
            nonisolated(unsafe) let routed = resolved
            response = try await handler(request, routed)
        } catch {
            if let bodyError {
                await sendError(status: bodyError.status, reason: bodyError.reason)
                return false
            }
            response = .text("internal server error\n", status: .internalServerError)
        }
        if let bodyError {
            await sendError(status: bodyError.status, reason: bodyError.reason)
            return false
        }
        var keepAlive = isKeepAlive && !server.isShuttingDown
        do {
            // A whole body is queued without an async call; a drain, if due, waits here.
            if try queueWhole(response, version: version, isHead: isHead, keepAlive: keepAlive) {
                if needsDrain { try await drain() }
            } else {
                keepAlive = try await write(response, version: version, isHead: isHead, keepAlive: keepAlive)
            }
        } catch {
            if let bodyError, pendingHead != nil {
                pendingHead = nil
                await sendError(status: bodyError.status, reason: bodyError.reason)
            }
            return false
        }
        guard isBodyOpen else { return keepAlive }
        // The client still sends a body: read and drop it, unless it waits for a 100 Continue
        // that was never sent (then it may never send it: close instead).
        if isContinuePending { return false }
        do {
            while try await nextBodyChunk(generation: generation) != nil {}
        } catch {
            return false
        }
        return keepAlive
    }

    /// Starts the request of `head`: its number, its body's state, no deadline while the handler runs.
    @inline(__always)
    private func begin(_ head: borrowing HTTPRawHead) {
        server.requestCount += 1
        generation = server.requestCount
        isBodyOpen = head.framing != .none
        isContinuePending = head.expectsContinue
        bodyError = nil
        deadline = Int.max
    }

    /// The `HTTPRequest` of `raw`, built once per request while no other connection's handler
    /// asks for its own in between (the server keeps one, not each connection: an idle
    /// connection stays 16 bytes smaller); nil if `generation` is not the current request's (a
    /// request kept past its response converts its own head).
    func head(of raw: HTTPRawHead, method: HTTPRequest.Method, generation: Int) -> HTTPRequest? {
        guard generation == self.generation else { return nil }
        if let cached = server.cachedHead, cached.generation == generation { return cached.head }
        let head = HTTPRequestConversion.request(from: raw, method: method)
        server.cachedHead = (generation, head)
        return head
    }

    /// Writes `response`, whose body is streamed or takes the connection over (``queueWhole``
    /// writes the others); returns whether the connection may stay open after it.
    private nonisolated(nonsending) func write(
        _ response: HTTPServerResponse, version: HTTPVersion, isHead: Bool, keepAlive: Bool
    ) async throws -> Bool {
        let statusAllowsBody = Self.allowsBody(response.status)
        let hasBody = statusAllowsBody && !isHead
        switch response.body {
        case .bytes:
            preconditionFailure("queueWhole writes every whole body")
        case .takeOver(let handler):
            guard version.minor >= 1, !isBodyOpen else {
                let refusal = HTTPServerResponse.text(
                    "a protocol upgrade needs an HTTP/1.1 request without a body\n", status: .badRequest)
                _ = try queueWhole(refusal, version: version, isHead: false, keepAlive: false)
                if needsDrain { try await drain() }
                return false
            }
            takeOverHandler = handler
            return false
        case .stream(let produce):
            // HTTP/1.0 has no chunked coding: the body then ends with the connection.
            let isChunked = hasBody && version.minor >= 1
            let keepAlive = keepAlive && (isChunked || !hasBody)
            // A HEAD response announces the framing a GET would get, without the body.
            let head = HTTPResponseEncoder.head(
                response, server: server, contentLength: nil, isChunked: statusAllowsBody && version.minor >= 1,
                version: version, keepAlive: keepAlive)
            if isContinuePending && isBodyOpen {
                // The producer may read the body: the client must get its 100 before the head.
                isContinuePending = false
                try stream.write(Self.continueLine)
            }
            pendingHead = head
            let writer = HTTPResponseBodyWriter(connection: self, isChunked: isChunked, isDiscarding: !hasBody)
            try await Self.produce(LoopBound((produce, writer)))
            if let head = pendingHead {
                pendingHead = nil
                try stream.write(isChunked ? head + HTTPChunkedEncoding.end : head)
            } else if isChunked {
                try stream.write(HTTPChunkedEncoding.end)
            }
            try await drain()
            return keepAlive
        }
    }

    /// Whether a response with `status` has a body (RFC 9110 §6.4.1: not 1xx, 204 or 304).
    private static func allowsBody(_ status: HTTPResponse.Status) -> Bool {
        let code = status.code
        return !(code < 200 || code == 204 || code == 304)
    }

    /// Queues `response` with its head if its body is whole (text or bytes), and returns true;
    /// false for a streamed or taken-over body (``write(_:version:isHead:keepAlive:)``).
    private func queueWhole(_ response: HTTPServerResponse, version: HTTPVersion, isHead: Bool, keepAlive: Bool) throws -> Bool {
        let statusAllowsBody = Self.allowsBody(response.status)
        let hasBody = statusAllowsBody && !isHead
        if let text = response.text, text.utf8.count <= 4096 {
            // A small `.text` body: its UTF-8 goes behind the head, with no `Bytes` of its own.
            let head = HTTPResponseEncoder.head(
                response, server: server, contentLength: statusAllowsBody ? text.utf8.count : nil,
                isChunked: false, version: version, keepAlive: keepAlive, appendingText: hasBody ? text : "")
            try stream.write(head)
            return true
        }
        guard case .bytes(let body) = response.body else { return false }
        let isSmall = hasBody && body.count <= 4096
        let head = HTTPResponseEncoder.head(
            response, server: server, contentLength: statusAllowsBody ? body.count : nil,
            isChunked: false, version: version, keepAlive: keepAlive, appending: isSmall ? body : Bytes())
        try stream.write(head)
        if hasBody && !isSmall { try stream.write(body) }
        return true
    }

    /// Queues `bytes` of a streamed body, after the head if it is still held.
    func writeBody(_ bytes: Bytes) throws {
        if let head = pendingHead {
            pendingHead = nil
            try stream.write(head + bytes)
        } else {
            try stream.write(bytes)
        }
    }

    /// False when ``drain()`` would return at once: checked before calling it, so that the
    /// common case costs no async call (its frame and the return through the executor).
    var needsDrain: Bool {
        // A Stream under its high water mark does not wait (see readStream).
        if let plain { return plain.isClosed || plain.bufferedWriteCount > plain.highWaterMark }
        return stream.bufferedWriteCount > 0
    }

    /// Waits while the client lags behind the responses, for at most the body timeout.
    nonisolated(nonsending) func drain() async throws {
        guard stream.bufferedWriteCount > 0 else { return }
        if let plain, !plain.isClosed, plain.bufferedWriteCount <= plain.highWaterMark { return }
        let saved = deadline
        deadline = server.deadline(afterTicks: server.bodyTicks)
        defer { deadline = saved }
        if let plain {
            try await plain.drain()
        } else {
            try await Self.drain(LoopBound(stream))
        }
    }

    /// The next piece of the current request's body; see ``HTTPRequestBody``.
    nonisolated(nonsending) func nextBodyChunk(generation: Int) async throws -> Bytes? {
        guard generation == self.generation, isBodyOpen else { return nil }
        if isContinuePending {
            isContinuePending = false
            try stream.write(Self.continueLine)
        }
        while true {
            let event: HTTPParser.Event?
            do {
                event = try parser.next()
            } catch {
                bodyError = error
                isBodyOpen = false
                throw error
            }
            switch event {
            case .body(let bytes): return bytes
            case .end, .head:
                isBodyOpen = false
                return nil
            case nil: break
            }
            deadline = server.deadline(afterTicks: server.bodyTicks)
            let bytes = try await readStream()
            deadline = Int.max
            guard let bytes else {
                let error = HTTPParseError(.incomplete, "the client closed the connection inside the body")
                bodyError = error
                isBodyOpen = false
                throw error
            }
            parser.append(bytes)
        }
    }

    /// Answers a request the server cannot serve, then closes.
    private nonisolated(nonsending) func sendError(status: Int, reason: String) async {
        let response = HTTPServerResponse.text(reason + "\n", status: HTTPResponse.Status(code: status))
        guard case .bytes(let body) = response.body else { return }
        let head = HTTPResponseEncoder.head(
            response, server: server, contentLength: body.count, isChunked: false, version: .http11, keepAlive: false,
            appending: body)
        try? stream.write(head)
        await closeGracefully()
    }

    /// Sends what is queued, then FIN, within the body timeout; the caller closes.
    private nonisolated(nonsending) func closeGracefully() async {
        deadline = server.deadline(afterTicks: server.bodyTicks)
        try? await Self.closeWrite(LoopBound(stream))
    }

    /// The next bytes from the stream; see ``plain``. Buffered bytes are taken without an
    /// `await` (its executor check costs more than the rest of the read).
    private nonisolated(nonsending) func readStream() async throws -> Bytes? {
        if let plain {
            if let bytes = plain.readBuffered() { return bytes }
            return try await plain.read()
        }
        return try await Self.read(LoopBound(stream))
    }

    // Concurrent calls out of the connection's nonisolated(nonsending) code: see ``LoopBound``.
    private static func read(_ stream: LoopBound<any ByteStream>) async throws -> Bytes? {
        try await stream.value.read()
    }

    private static func drain(_ stream: LoopBound<any ByteStream>) async throws {
        try await stream.value.drain()
    }

    private static func closeWrite(_ stream: LoopBound<any ByteStream>) async throws {
        try await stream.value.closeWrite()
    }

    private static func produce(
        _ call: LoopBound<((HTTPResponseBodyWriter) async throws -> Void, HTTPResponseBodyWriter)>
    ) async throws {
        try await call.value.0(call.value.1)
    }

    private static func takeOver(_ call: LoopBound<((any ByteStream, Bytes) async -> Void, any ByteStream, Bytes)>) async {
        await call.value.0(call.value.1, call.value.2)
    }
}
