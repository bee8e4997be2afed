import Testing
import UVLoopTestSupport

@testable import UVLoopHTTP

/// Handlers without `await` (``HTTPServer/SynchronousHandler``): answered in the read callback
/// for requests without a body, on the connection's task otherwise, in order either way. Once a
/// request goes to the task, the requests that arrived with it are answered there too.
@Suite("HTTPServer synchronous handlers")
struct HTTPSynchronousHandlerTests {
    /// Where the handler ran: outside any task (the read callback) or on the connection's task.
    static func place() -> String {
        withUnsafeCurrentTask { $0 == nil ? "callback" : "task" }
    }

    static func router() -> Router {
        var router = Router()
        router.get("/where") { _, _ in .text(place() + "\n") }
        router.post("/where") { _, _ in .text(place() + "\n") }
        router.get("/waits") { _, context in
            try await context.loop.sleep(for: .milliseconds(20))
            return .text(place() + "\n")
        }
        router.get("/stream") { _, _ in
            HTTPServerResponse(status: .ok) { body in
                for index in 0..<3 { try await body.write("part \(index)\n") }
            }
        }
        router.get("/fail") { _, _ in throw TestFailure("synchronous handler") }
        router.get("/large") { _, _ in
            HTTPServerResponse(status: .ok, body: Bytes([UInt8](repeating: 0x61, count: 2 << 20)))
        }
        return router
    }

    /// A response read off a raw socket: its status and body (only the size of a large one).
    struct Answer: Equatable {
        let status: Int
        let body: String

        init(status: Int, body: String) {
            self.status = status
            self.body = body
        }

        init(status: Int, bytes: [UInt8]) {
            self.status = status
            body = bytes.count > 1000 ? "\(bytes.count) bytes" : String(decoding: bytes, as: UTF8.self)
        }
    }

    /// Writes `requests` in one write, then reads responses until the server closes; `head`
    /// tells which requests were HEAD (their responses have no body).
    static func exchange(
        _ requests: String, heads: Set<Int> = [], port: Int, on loop: Loop, timeout: Duration = .seconds(10)
    ) async throws -> [Answer] {
        let socket = try await TCPStream.connect(host: "127.0.0.1", port: port, on: loop)
        defer { socket.close() }
        try socket.write(requests)
        var parser = HTTPParser(kind: .response)
        var answers: [Answer] = []
        var status = 0
        var body: [UInt8] = []
        parser.nextResponseHasNoBody = heads.contains(0)
        while let bytes = try await loop.withTimeout(timeout, { try await socket.read() }) {
            parser.append(bytes)
            while let event = try parser.next() {
                switch event {
                case .head(let head):
                    status = head.status
                    body = []
                case .body(let part):
                    body += part.array
                case .end:
                    answers.append(Answer(status: status, bytes: body))
                    parser.nextResponseHasNoBody = heads.contains(answers.count)
                }
            }
        }
        return answers
    }

    @Test("a handler without await answers a request without a body in the read callback; one with a body, and those after it, on the task")
    func place() async throws {
        try await onLoop { loop in
            try await withServer(Self.router(), on: loop) { port, _ in
                let answers = try await Self.exchange(
                    "GET /where HTTP/1.1\r\nHost: x\r\n\r\n"
                        + "POST /where HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
                        + "GET /waits HTTP/1.1\r\nHost: x\r\n\r\n"
                        + "GET /where HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                    port: port, on: loop)
                #expect(
                    answers == [
                        Answer(status: 200, body: "callback\n"), Answer(status: 200, body: "task\n"),
                        Answer(status: 200, body: "task\n"), Answer(status: 200, body: "task\n"),
                    ])
                // Alone in its read, the same request is answered in the callback again.
                let later = try await Self.exchange(
                    "GET /where HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", port: port, on: loop)
                #expect(later == [Answer(status: 200, body: "callback\n")])
            }
        }
    }

    @Test("pipelined answers from both kinds of handler keep their order: streams, failures, HEAD, 404")
    func order() async throws {
        try await onLoop { loop in
            try await withServer(Self.router(), on: loop) { port, _ in
                let answers = try await Self.exchange(
                    "GET /where HTTP/1.1\r\nHost: x\r\n\r\n"
                        + "GET /waits HTTP/1.1\r\nHost: x\r\n\r\n"
                        + "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n"
                        + "GET /where HTTP/1.1\r\nHost: x\r\n\r\n"
                        + "GET /fail HTTP/1.1\r\nHost: x\r\n\r\n"
                        + "HEAD /where HTTP/1.1\r\nHost: x\r\n\r\n"
                        + "GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n"
                        + "GET /where HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                    heads: [5], port: port, on: loop)
                #expect(
                    answers == [
                        Answer(status: 200, body: "callback\n"), Answer(status: 200, body: "task\n"),
                        Answer(status: 200, body: "part 0\npart 1\npart 2\n"), Answer(status: 200, body: "task\n"),
                        Answer(status: 500, body: "internal server error\n"), Answer(status: 200, body: ""),
                        Answer(status: 404, body: "not found\n"), Answer(status: 200, body: "task\n"),
                    ])
                // Answered in the callback: a failure's 500, a HEAD; then a streamed response,
                // which the callback leaves to the task to write.
                let callback = try await Self.exchange(
                    "GET /fail HTTP/1.1\r\nHost: x\r\n\r\n"
                        + "HEAD /where HTTP/1.1\r\nHost: x\r\n\r\n"
                        + "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n"
                        + "GET /where HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                    heads: [1], port: port, on: loop)
                #expect(
                    callback == [
                        Answer(status: 500, body: "internal server error\n"), Answer(status: 200, body: ""),
                        Answer(status: 200, body: "part 0\npart 1\npart 2\n"), Answer(status: 200, body: "task\n"),
                    ])
            }
        }
    }

    @Test("a malformed request after one answered in the read callback gets its 400, then the close")
    func malformedAfter() async throws {
        try await onLoop { loop in
            try await withServer(Self.router(), on: loop) { port, _ in
                let answers = try await Self.exchange(
                    "GET /where HTTP/1.1\r\nHost: x\r\n\r\nGET /where HTTP/1.1\r\nHost : x\r\n\r\n", port: port, on: loop)
                #expect(answers.map(\.status) == [200, 400])
                #expect(answers.first?.body == "callback\n")
            }
        }
    }

    @Test("an HTTP/1.0 request is answered in the read callback, then closed")
    func http10() async throws {
        try await onLoop { loop in
            try await withServer(Self.router(), on: loop) { port, _ in
                let answers = try await Self.exchange("GET /where HTTP/1.0\r\n\r\n", port: port, on: loop)
                #expect(answers == [Answer(status: 200, body: "callback\n")])
            }
        }
    }

    @Test("large answers queued in the read callback past the high water mark are drained by the task, all of them")
    func drained() async throws {
        try await onLoop { loop in
            try await withServer(Self.router(), on: loop) { port, _ in
                let requests = String(repeating: "GET /large HTTP/1.1\r\nHost: x\r\n\r\n", count: 5)
                let answers = try await Self.exchange(
                    requests + "GET /where HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", port: port, on: loop)
                let large = Answer(status: 200, body: "\(2 << 20) bytes")
                #expect(answers == Array(repeating: large, count: 5) + [Answer(status: 200, body: "task\n")])
            }
        }
    }

    @Test("a server with one synchronous handler answers every request with it, in the read callback")
    func serverHandler() async throws {
        try await onLoop { loop in
            let listener = try TCPListener(host: "127.0.0.1", port: 0, on: loop)
            let server = HTTPServer { request, _ in .text("\(request.path) \(Self.place())\n") }
            let running = loop.spawn { try await server.run(on: listener) }
            let answers = try await Self.exchange(
                "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b?c=d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                port: listener.port, on: loop)
            server.shutdown()
            await running.value
            #expect(answers == [Answer(status: 200, body: "/a callback\n"), Answer(status: 200, body: "/b callback\n")])
        }
    }

    /// What a stream still held unwritten when the loop reached its end-of-iteration flush.
    final class Backlogs: @unchecked Sendable {
        // @unchecked: appended to and read on the test's one loop thread only.
        var atFlush: [Int] = []
    }

    @Test("a response answered in the read callback is handed to the kernel at once, not left for the iteration's flush")
    func sentAtOnce() async throws {
        try await onLoop { loop in
            let backlogs = Backlogs()
            var router = Router()
            router.get("/sent") { _, context in
                let stream = context.stream
                // Runs once the poll's callbacks are done, just before every stream's queue goes out.
                context.loop.runBeforeFlush { backlogs.atFlush.append(stream.bufferedWriteCount) }
                return .text(Self.place() + "\n")
            }
            try await withServer(router, on: loop) { port, _ in
                let socket = try await TCPStream.connect(host: "127.0.0.1", port: port, on: loop)
                defer { socket.close() }
                for _ in 0..<2 {
                    try socket.write("GET /sent HTTP/1.1\r\nHost: x\r\n\r\n")
                    var received: [UInt8] = []
                    while !String(decoding: received, as: UTF8.self).hasSuffix("callback\n") {
                        guard let bytes = try await loop.withTimeout(.seconds(10), { try await socket.read() }) else {
                            throw TestFailure("the server closed before answering")
                        }
                        received += bytes.array
                    }
                }
            }
            #expect(backlogs.atFlush == [0, 0])
        }
    }

    /// The server a handler shuts down; weak, as the server holds the handler that holds this.
    final class ServerBox: @unchecked Sendable {
        // @unchecked: set and read on the test's one loop thread only.
        weak var server: HTTPServer?
    }

    @Test("a synchronous handler that begins the shutdown answers with Connection: close, and the connection closes")
    func shutdownFromHandler() async throws {
        try await onLoop { loop in
            let box = ServerBox()
            let listener = try TCPListener(host: "127.0.0.1", port: 0, on: loop)
            // A grace period far past the read timeout: only `Connection: close` ends the exchange in time.
            let server = HTTPServer(configuration: HTTPServerConfiguration(shutdownGracePeriod: .seconds(60))) { _, _ in
                box.server?.shutdown()
                return .text(Self.place() + "\n")
            }
            box.server = server
            let running = loop.spawn { try await server.run(on: listener) }
            let answers = try await Self.exchange(
                "GET / HTTP/1.1\r\nHost: x\r\n\r\n", port: listener.port, on: loop, timeout: .seconds(5))
            await running.value
            #expect(answers == [Answer(status: 200, body: "callback\n")])
            #expect(server.connectionCount == 0)
        }
    }
}
