import Testing
import UVLoopHTTP
import UVLoopTestSupport

/// HTTPServer and Router driven by HTTPClient and raw sockets on one loop (the script tests
/// in scripts/http_integration.py drive the release HTTPExample with curl, h11 and others).
@Suite("HTTPServer")
struct HTTPServerTests {
    static func router() -> Router {
        var router = Router()
        router.get("/") { _, _ in .text("hello\n") }
        router.get("/users/:id/posts/:post") { _, context in
            .text("user \(context.parameters["id"] ?? "-") post \(context.parameters["post"] ?? "-")\n")
        }
        router.get("/files/*") { request, _ in .text("file \(request.path)\n") }
        router.post("/sum") { request, _ in
            var total = 0
            for try await chunk in request.body { total += chunk.count }
            return .text("\(total)\n")
        }
        router.get("/stream") { _, _ in
            HTTPServerResponse(status: .ok) { body in
                for index in 0..<3 { try await body.write("part \(index)\n") }
            }
        }
        router.get("/fail") { _, _ in throw TestFailure("handler") }
        return router
    }

    @Test("routes by method and path with parameters and wildcards; 404 and 405 otherwise")
    func routing() async throws {
        try await onLoop { loop in
            try await withServer(Self.router(), on: loop) { port, _ in
                let client = HTTPClient(on: loop)
                defer { client.close() }
                let base = "http://127.0.0.1:\(port)"
                func text(_ method: HTTPRequest.Method, _ path: String) async throws -> (Int, String) {
                    let response = try await client.execute(method, base + path)
                    return (response.head.status.code, try await response.body.collect().string)
                }
                #expect(try await text(.get, "/") == (200, "hello\n"))
                #expect(try await text(.get, "/users/7/posts/42?x=1") == (200, "user 7 post 42\n"))
                #expect(try await text(.get, "/files/a/b.txt") == (200, "file /files/a/b.txt\n"))
                #expect(try await text(.get, "/nothing").0 == 404)
                let wrongMethod = try await client.execute(.put, base + "/")
                #expect(wrongMethod.head.status.code == 405)
                #expect(wrongMethod.head.headerFields[.allow] == "GET")
                _ = try await wrongMethod.body.collect()
                #expect(try await text(.get, "/fail") == (500, "internal server error\n"))
                #expect(try await text(.head, "/") == (200, ""))
                #expect(client.idleConnectionCount == 1, "one kept-alive connection served every request")
            }
        }
    }

    @Test("a handler sees the request's head when it asks, a head it sets, and the fields it adds to a text response")
    func lazyHeadAndFields() async throws {
        try await onLoop { loop in
            try await withServer(Self.headRouter(), on: loop) { port, _ in
                let client = HTTPClient(on: loop)
                defer { client.close() }
                let response = try await client.execute(.get, "http://127.0.0.1:\(port)/head", headerFields: [.userAgent: "tester"])
                #expect(try await response.body.collect().string == "GET 127.0.0.1:\(port) tester /changed 1\n")
                #expect(response.head.headerFields[.cacheControl] == "no-store")
                #expect(response.head.headerFields[.contentType] == "text/plain; charset=utf-8")
            }
        }
    }

    static func headRouter() -> Router {
        var router = Router()
        router.get("/head") { request, _ in
            var request = request
            let agent = request.head.headerFields[.userAgent] ?? "-"
            let authority = request.head.authority ?? "-"
            let method = request.head.method.rawValue
            request.head.path = "/changed?q=1"
            let query = request.queryParameter("q") ?? "-"
            var response = HTTPServerResponse.text("\(method) \(authority) \(agent) \(request.path) \(query)\n")
            response.headerFields[.cacheControl] = "no-store"
            return response
        }
        return router
    }

    @Test("reads request bodies of either framing and streams responses chunked")
    func bodies() async throws {
        try await onLoop { loop in
            try await withServer(Self.router(), on: loop) { port, _ in
                let client = HTTPClient(on: loop)
                defer { client.close() }
                let base = "http://127.0.0.1:\(port)"
                let big = Bytes(Array(repeating: 7, count: 300_000))
                #expect(try await client.execute(.post, base + "/sum", body: .bytes(big)).body.collect().string == "300000\n")
                let chunked = try await client.execute(
                    .post, base + "/sum",
                    body: .stream { writer in for _ in 0..<5 { try await writer.write(Bytes(Array(repeating: 1, count: 1000))) } })
                #expect(try await chunked.body.collect().string == "5000\n")
                let stream = try await client.execute(.get, base + "/stream")
                #expect(stream.head.headerFields[.transferEncoding] == "chunked")
                #expect(try await stream.body.collect().string == "part 0\npart 1\npart 2\n")
                let head = try await client.execute(.head, base + "/stream")
                #expect(head.head.headerFields[.transferEncoding] == "chunked", "HEAD announces what GET gets")
                #expect(try await head.body.collect().count == 0)
                #expect(try await client.execute(.get, base + "/").body.collect().string == "hello\n")
                #expect(client.idleConnectionCount == 1, "the HEAD response left the connection usable")
            }
        }
    }

    @Test("answers pipelined requests in order on a raw socket")
    func pipelining() async throws {
        try await onLoop { loop in
            try await withServer(Self.router(), on: loop) { port, _ in
                let socket = try await TCPStream.connect(host: "127.0.0.1", port: port, on: loop)
                defer { socket.close() }
                var requests = ""
                for index in 0..<10 { requests += "GET /users/\(index)/posts/0 HTTP/1.1\r\nHost: x\r\n\r\n" }
                try socket.write(requests + "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                var parser = HTTPParser(kind: .response)
                var bodies: [String] = []
                var current = ""
                while let bytes = try await loop.withTimeout(.seconds(10), { try await socket.read() }) {
                    parser.append(bytes)
                    while let event = try parser.next() {
                        switch event {
                        case .head: current = ""
                        case .body(let body): current += body.string
                        case .end: bodies.append(current)
                        }
                    }
                }
                #expect(bodies == (0..<10).map { "user \($0) post 0\n" } + ["hello\n"])
            }
        }
    }

    @Test("closes a connection whose head does not arrive within the header timeout")
    func headerTimeout() async throws {
        try await onLoop { loop in
            let configuration = HTTPServerConfiguration(headerTimeout: .milliseconds(300))
            try await withServer(Self.router(), configuration: configuration, on: loop) { port, server in
                let socket = try await TCPStream.connect(host: "127.0.0.1", port: port, on: loop)
                defer { socket.close() }
                try socket.write("GET / HTTP/1.1\r\n")
                let started = ContinuousClock.now
                let end = try await loop.withTimeout(.seconds(5)) { try await socket.read() }
                #expect(end == nil)
                #expect(ContinuousClock.now - started >= .milliseconds(250))
                #expect(server.connectionCount == 0)
            }
        }
    }

    @Test("shutdown lets a request in flight finish with Connection: close, then run returns")
    func gracefulShutdown() async throws {
        try await onLoop { loop in
            var router = Router()
            let entered = Event(on: loop)
            let release = Event(on: loop)
            router.get("/wait") { _, _ in
                entered.set()
                try await release.wait()
                return .text("done\n")
            }
            let listener = try TCPListener(host: "127.0.0.1", port: 0, on: loop)
            let server = HTTPServer(router: router)
            let running = loop.spawn { try await server.run(on: listener) }
            let client = HTTPClient(on: loop)
            defer { client.close() }
            let port = listener.port
            let request = loop.spawn {
                let response = try await client.execute(.get, "http://127.0.0.1:\(port)/wait")
                #expect(response.head.headerFields[.connection] == "close")
                #expect(try await response.body.collect().string == "done\n")
            }
            try await entered.wait()
            server.shutdown()
            #expect(listener.isClosed)
            release.set()
            await request.value
            try await loop.withTimeout(.seconds(5)) { await running.value }
            #expect(server.connectionCount == 0)
        }
    }
}
