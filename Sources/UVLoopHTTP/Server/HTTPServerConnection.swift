/// One connection of an ``HTTPServer``: reads requests in order, runs the handler on this
/// connection's task, writes each response before reading the next request's body.
///
/// Its deadline (in server ticks) is what the server's clock checks: the header timeout while
/// a head arrives, the idle timeout between requests, the body timeout while a body read or
/// a response write waits, none while the handler runs.
final class HTTPServerConnection {
    let stream: any ByteStream
    let server: HTTPServer
    var parser: HTTPParser
    /// Position in the server's connection list.
    var index = -1
    var deadline: Int
    /// True while waiting for a request of which no byte has arrived.
    var isIdle = true
    /// True if the deadline is the idle timeout (else the header timeout runs from accept).
    private var isKeepAliveWait = false
    /// Counts requests, so that a body iterator kept past its request reads nothing.
    private var generation = 0
    private var isBodyOpen = false
    private var isContinuePending = false
    private var bodyError: HTTPParseError?
    /// The head of a streamed response, held until the first body write so that both go
    /// out together, and so that a request body found malformed before it can still get its 400.
    var pendingHead: Bytes?
    /// Set by a response that takes the connection over; run then hands it the stream.
    private var takeOverHandler: ((any ByteStream, Bytes) async -> Void)?

    private static let continueLine: Bytes = "HTTP/1.1 100 Continue\r\n\r\n"

    init(stream: any ByteStream, server: HTTPServer) {
        self.stream = stream
        self.server = server
        parser = HTTPParser(kind: .request, limits: server.configuration.limits)
        deadline = server.deadline(afterTicks: server.headerTicks)
    }

    func run() async {
        var isHandedOver = false
        defer {
            if !isHandedOver {
                stream.close()
                server.remove(self)
            }
        }
        while true {
            let head: HTTPRawHead
            do {
                guard let next = try await readHead() else { return }
                head = next
            } catch let error as HTTPParseError {
                if error.kind != .incomplete { await sendError(status: error.status, reason: error.reason) }
                return
            } catch {
                return
            }
            isIdle = false
            let staysOpen = await respond(to: head)
            if let handler = takeOverHandler {
                // The connection leaves the server: its timeouts, shutdown and close are the new
                // owner's, which may keep it open after returning (a session waiting without a task).
                takeOverHandler = nil
                isHandedOver = true
                server.remove(self)
                await handler(stream, parser.takeBuffered())
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
                // An idle connection holds no task: this one ends, and the next request's first
                // bytes start another (PERFORMANCE.md, HTTP).
                isHandedOver = true
                waitIdle()
                return
            }
        }
    }

    /// Waits for the next request without a task where the stream can (``ByteStream/whenReadable(_:)``),
    /// else in a fresh task: the handler's frames grew this task's allocator, which keeps its
    /// slabs until the task ends.
    func waitIdle() {
        // Each closure captures only `self`, which is then its context: no allocation.
        if !stream.whenReadable({ [self] in stream.loop.spawn { await self.run() } }) {
            stream.loop.spawn { [self] in await run() }
        }
    }

    /// Reads until a whole head has arrived; `nil` if the client closed between requests.
    private func readHead() async throws -> HTTPRawHead? {
        while true {
            if case .head(let head) = try parser.next() { return head }
            guard let bytes = try await stream.read() else {
                _ = try parser.finish()
                return nil
            }
            if isKeepAliveWait {
                isKeepAliveWait = false
                deadline = server.deadline(afterTicks: server.headerTicks)
            }
            isIdle = false
            parser.append(bytes)
        }
    }

    /// Runs the handler and writes its response; returns whether the connection stays open.
    private func respond(to head: HTTPRawHead) async -> Bool {
        generation += 1
        isBodyOpen = head.framing != .none
        isContinuePending = head.expectsContinue
        bodyError = nil
        deadline = Int.max
        if !isBodyOpen { _ = try? parser.next() }  // the end of a bodiless request
        let request: HTTPServerRequest
        do {
            request = HTTPServerRequest(
                head: try HTTPRequestConversion.request(from: head),
                body: HTTPRequestBody(connection: self, generation: generation))
        } catch {
            await sendError(status: 400, reason: "\(error)")
            return false
        }
        let isHead = request.head.method == .head
        let context = HTTPRequestContext(loop: stream.loop, stream: stream)
        var response: HTTPServerResponse
        do {
            response = try await server.handler(request, context)
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
        var keepAlive = head.isKeepAlive && !server.isShuttingDown
        do {
            keepAlive = try await write(response, version: head.version, isHead: isHead, keepAlive: keepAlive)
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

    /// Writes `response`; returns whether the connection may stay open after it.
    private func write(
        _ response: HTTPServerResponse, version: HTTPVersion, isHead: Bool, keepAlive: Bool
    ) async throws -> Bool {
        let code = response.status.code
        let hasBody = !(isHead || code < 200 || code == 204 || code == 304)
        switch response.body {
        case .bytes(let body):
            let isSmall = hasBody && body.count <= 4096
            let head = HTTPResponseEncoder.head(
                response, server: server, contentLength: code < 200 || code == 204 || code == 304 ? nil : body.count,
                isChunked: false, version: version, keepAlive: keepAlive, appending: isSmall ? body : Bytes())
            try stream.write(head)
            if hasBody && !isSmall { try stream.write(body) }
            try await drain()
            return keepAlive
        case .takeOver(let handler):
            guard version.minor >= 1, !isBodyOpen else {
                let refusal = HTTPServerResponse.text(
                    "a protocol upgrade needs an HTTP/1.1 request without a body\n", status: .badRequest)
                return try await write(refusal, version: version, isHead: false, keepAlive: false)
            }
            takeOverHandler = handler
            return false
        case .stream(let produce):
            // HTTP/1.0 has no chunked coding: the body then ends with the connection.
            let isChunked = hasBody && version.minor >= 1
            let keepAlive = keepAlive && (isChunked || !hasBody)
            // A HEAD response announces the framing a GET would get, without the body.
            let statusAllowsBody = !(code < 200 || code == 204 || code == 304)
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
            try await produce(writer)
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

    /// Queues `bytes` of a streamed body, after the head if it is still held.
    func writeBody(_ bytes: Bytes) throws {
        if let head = pendingHead {
            pendingHead = nil
            try stream.write(head + bytes)
        } else {
            try stream.write(bytes)
        }
    }

    /// Waits while the client lags behind the responses, for at most the body timeout.
    func drain() async throws {
        guard stream.bufferedWriteCount > 0 else { return }
        let saved = deadline
        deadline = server.deadline(afterTicks: server.bodyTicks)
        defer { deadline = saved }
        try await stream.drain()
    }

    /// The next piece of the current request's body; see ``HTTPRequestBody``.
    func nextBodyChunk(generation: Int) async throws -> Bytes? {
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
            let bytes = try await stream.read()
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
    private func sendError(status: Int, reason: String) async {
        let response = HTTPServerResponse.text(reason + "\n", status: HTTPResponse.Status(code: status))
        guard case .bytes(let body) = response.body else { return }
        let head = HTTPResponseEncoder.head(
            response, server: server, contentLength: body.count, isChunked: false, version: .http11, keepAlive: false,
            appending: body)
        try? stream.write(head)
        await closeGracefully()
    }

    /// Sends what is queued, then FIN, within the body timeout; the caller closes.
    private func closeGracefully() async {
        deadline = server.deadline(afterTicks: server.bodyTicks)
        try? await stream.closeWrite()
    }
}
