import ArgumentParser
import UVLoopHTTP
import UVLoopWebSocket

#if canImport(Glibc)
    import Glibc
#endif

/// `swift run HTTPExample`: a small HTTP/1.1 server, the benchmark target and the peer of
/// scripts/http_integration.py.
@main
struct HTTPExampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "HTTPExample",
        abstract:
            "An HTTP/1.1 server: GET / and GET /async (hello), POST /echo, GET /lines?count=N, GET /sleep?ms=N, GET /ws/echo (WebSocket).",
        discussion: "SIGINT or SIGTERM stops accepting, lets requests in flight finish and exits."
    )

    @Option(help: "The address to listen on (IPv4 or IPv6).")
    var host = "127.0.0.1"

    @Option(help: "The TCP port to listen on (0 picks a free one).")
    var port = 8080

    @Option(help: "Event loops (threads) sharing the port through SO_REUSEPORT.")
    var loops = 1

    @Option(help: "The most bytes of header section (431 past it).")
    var maxHeaderBytes = 32 * 1024

    @Option(help: "The most header fields (431 past it).")
    var maxFields = 100

    @Option(help: "The longest request target (414 past it).")
    var maxTargetLength = 8 * 1024

    @Option(help: "The largest request body (413 past it).")
    var maxBodyBytes = 8 * 1024 * 1024

    @Option(help: "Seconds a client may take to send a request head.")
    var headerTimeout = 10.0

    @Option(help: "Seconds a kept-alive connection may wait for its next request.")
    var idleTimeout = 60.0

    @Option(help: "Seconds a request body read or a response write may stall.")
    var bodyTimeout = 30.0

    @Option(help: "Seconds requests in flight get to finish at shutdown.")
    var shutdownGrace = 10.0

    func run() throws {
        let configuration = HTTPServerConfiguration(
            limits: HTTPParserLimits(
                maxHeaderBytes: maxHeaderBytes, maxFieldCount: maxFields, maxTargetLength: maxTargetLength,
                maxBodyBytes: maxBodyBytes),
            headerTimeout: .seconds(headerTimeout),
            idleTimeout: .seconds(idleTimeout),
            bodyTimeout: .seconds(bodyTimeout),
            shutdownGracePeriod: .seconds(shutdownGrace)
        )
        let host = host
        let port = port
        let loops = loops
        try LoopGroup.run(count: loops) { loop, index in
            let listener = try TCPListener(host: host, port: port, reusePort: loops > 1, on: loop)
            let server = HTTPServer(router: makeRouter(), configuration: configuration)
            if index == 0 {
                print("HTTPExample listening on \(host):\(listener.port) with \(loops) loop(s)")
                fflush(nil)
            }
            let signals = loop.spawn {
                _ = try await loop.waitForSignal([.interrupt, .terminate])
                server.shutdown()
            }
            try await server.run(on: listener)
            signals.cancel()
        }
        print("HTTPExample exiting.")
    }
}

/// The example's routes.
func makeRouter() -> Router {
    var router = Router()
    router.get("/") { _, _ in .text("hello\n") }
    // The same answer from a handler that may wait: it runs on the connection's task, where
    // `/`, whose handler is synchronous, is answered as its request is read (PERFORMANCE.md).
    router.get("/async") { _, _ async in .text("hello\n") }
    router.post("/echo") { request, _ in
        HTTPServerResponse(status: .ok, headerFields: [.contentType: "application/octet-stream"]) { body in
            for try await chunk in request.body { try await body.write(chunk) }
        }
    }
    router.get("/lines") { request, _ in
        let count = request.queryParameter("count").flatMap { Int($0) } ?? 10
        guard count >= 0, count <= 10_000_000 else { return .text("count must be 0 to 10000000\n", status: .badRequest) }
        return HTTPServerResponse(status: .ok, headerFields: [.contentType: "text/plain; charset=utf-8"]) { body in
            for line in 0..<count { try await body.write("line \(line)\n") }
        }
    }
    // A WebSocket echo (each message back with its type), permessage-deflate offered: the
    // target of the Autobahn|Testsuite run in scripts/autobahn.sh.
    router.get("/ws/echo") { request, _ in
        var options = WebSocket.Options()
        options.compression = PerMessageDeflateOptions()
        options.closeTimeout = .seconds(2)
        return .webSocket(request, options: options) { socket in
            do {
                for try await message in socket.messages {
                    switch message {
                    case .text(let text): try await socket.send(text: text)
                    case .binary(let bytes): try await socket.send(binary: bytes)
                    }
                }
            } catch {
                await socket.close(code: .internalError)
            }
        }
    }
    router.get("/sleep") { request, context in
        let milliseconds = request.queryParameter("ms").flatMap { Int($0) } ?? 100
        guard milliseconds >= 0, milliseconds <= 600_000 else { return .text("ms must be 0 to 600000\n", status: .badRequest) }
        try await context.loop.sleep(for: .milliseconds(milliseconds))
        return .text("slept\n")
    }
    return router
}
