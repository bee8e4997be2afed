import Testing
import UVLoopHTTP
import UVLoopTestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// HTTPClient against peers we did not write: Python's http.server and nginx.
@Suite("HTTPClient")
struct HTTPClientTests {
    /// Runs `body` with a client and the Python peer (scripts/http_test_peer.py).
    func withPythonPeer(
        configure: @escaping @Sendable (inout HTTPClientConfiguration) -> Void = { _ in },
        _ body: @escaping @Sendable (HTTPClient, String) async throws -> Void
    ) async throws {
        try await onLoop { loop in
            let peer = try await PeerProcess("python3", ["\(repositoryRoot)/scripts/http_test_peer.py"], on: loop)
            var configuration = HTTPClientConfiguration()
            configure(&configuration)
            let client = HTTPClient(on: loop, configuration: configuration)
            do {
                try await body(client, "http://127.0.0.1:\(peer.port)")
            } catch {
                client.close()
                try await peer.stop()
                throw error
            }
            client.close()
            try await peer.stop()
        }
    }

    static func followRedirects(_ configuration: inout HTTPClientConfiguration) {
        configuration.followsRedirects = true
        configuration.maxRedirects = 3
    }

    static func shortTimeout(_ configuration: inout HTTPClientConfiguration) {
        configuration.requestTimeout = .milliseconds(300)
    }

    @Test("reuses one keep-alive connection for sequential requests")
    func keepAlive() async throws {
        try await withPythonPeer { client, base in
            for _ in 0..<5 {
                let response = try await client.execute(.get, "\(base)/hello")
                #expect(response.head.status == .ok)
                #expect(try await response.body.collect().string == "hello\n")
            }
            #expect(client.idleConnectionCount == 1)
            let count = try await client.execute(.get, "\(base)/connections").body.collect().string
            #expect(count == "1\n")
        }
    }

    @Test("reads chunked and close-delimited response bodies")
    func responseFraming() async throws {
        try await withPythonPeer { client, base in
            #expect(try await client.execute(.get, "\(base)/chunked").body.collect().string == "a\nbb\nccc\n")
            #expect(try await client.execute(.get, "\(base)/close").body.collect().string == "until close\n")
            let head = try await client.execute(.head, "\(base)/hello")
            #expect(head.head.headerFields[.contentLength] == "6")
            #expect(try await head.body.collect().count == 0)
        }
    }

    @Test("sends length and chunked request bodies")
    func requestBodies() async throws {
        try await withPythonPeer { client, base in
            let payload = Bytes(Array(repeating: UInt8(ascii: "z"), count: 100_000))
            let echoed = try await client.execute(.post, "\(base)/echo", body: .bytes(payload)).body.collect(upTo: 1 << 20)
            #expect(echoed == payload)
            let streamed = try await client.execute(
                .post, "\(base)/echo",
                body: .stream { writer in
                    for index in 0..<10 { try await writer.write(Bytes("piece \(index)\n")) }
                }
            ).body.collect()
            #expect(streamed.string == (0..<10).map { "piece \($0)\n" }.joined())
        }
    }

    @Test("leaves redirects alone by default, follows them when asked, and stops at the limit")
    func redirects() async throws {
        try await withPythonPeer { client, base in
            let response = try await client.execute(.get, "\(base)/redirect")
            #expect(response.head.status.code == 302)
            _ = try await response.body.collect()
        }
        try await withPythonPeer(configure: Self.followRedirects) { client, base in
            let followed = try await client.execute(.get, "\(base)/redirect").body.collect().string
            #expect(followed == "hello\n")
            await #expect {
                _ = try await client.execute(.get, "\(base)/redirect-loop")
            } throws: { ($0 as? HTTPClientError)?.kind == .tooManyRedirects }
        }
    }

    @Test("times out a whole request, and reports a refused connect")
    func timeouts() async throws {
        try await withPythonPeer(configure: Self.shortTimeout) { client, base in
            await #expect {
                _ = try await client.execute(.get, "\(base)/slow")
            } throws: { ($0 as? HTTPClientError)?.kind == .timedOut }
            let refused = try await client.loop.withTimeout(.seconds(5)) { () -> HTTPClientError? in
                do {
                    _ = try await client.execute(.get, "http://127.0.0.1:1/")
                    return nil
                } catch {
                    return error as? HTTPClientError
                }
            }
            #expect(refused?.kind == .connectFailed)
            #expect(refused?.description.contains("ECONNREFUSED") == true)
        }
    }

    @Test("refuses https without a TLS connection factory, and uses the factory it is given")
    func connectionFactory() async throws {
        try await onLoop { loop in
            let client = HTTPClient(on: loop)
            await #expect {
                _ = try await client.execute(.get, "https://127.0.0.1:1/")
            } throws: { ($0 as? HTTPClientError)?.kind == .unsupportedScheme }
        }
        let opened = Counter()
        let countConnects: @Sendable (inout HTTPClientConfiguration) -> Void = { configuration in
            configuration.connectionFactory = { url, loop in
                opened.value += 1
                return try await TCPStream.connect(host: url.host, port: url.port, on: loop)
            }
        }
        try await withPythonPeer(configure: countConnects) { client, base in
            _ = try await client.execute(.get, "\(base)/hello").body.collect()
            _ = try await client.execute(.get, "\(base)/hello").body.collect()
            #expect(opened.value == 1)
        }
    }

    @Test(
        "talks to nginx: keep-alive on one connection, a large static file, redirects",
        .enabled(if: access("/usr/sbin/nginx", X_OK) == 0, "needs nginx (scripts/setup.sh installs it)"))
    func nginx() async throws {
        try await onLoop { loop in
            let folder = "/tmp/uvloop-nginx-\(getpid())-\(Int.random(in: 0..<1_000_000))"
            mkdir(folder, 0o755)
            let big = String(repeating: "0123456789abcdef", count: 20_000)
            try writeFile("\(folder)/big.txt", big)
            // A free port: bind port 0, read it back, let nginx take it.
            let probe = try TCPListener(host: "127.0.0.1", port: 0, on: loop)
            let port = probe.port
            probe.close()
            try writeFile(
                "\(folder)/nginx.conf",
                """
                worker_processes 1;
                daemon off;
                master_process off;
                error_log \(folder)/error.log;
                pid \(folder)/nginx.pid;
                events { worker_connections 64; }
                http {
                    access_log off;
                    server {
                        listen 127.0.0.1:\(port);
                        location = /connection { default_type text/plain; return 200 "$connection\\n"; }
                        location = /big.txt { root \(folder); }
                        location = /moved { return 301 /connection; }
                    }
                }
                """)
            let nginx = try Subprocess.spawn(
                "/usr/sbin/nginx", arguments: ["-c", "\(folder)/nginx.conf", "-p", folder], standardError: .inherit, on: loop)
            defer { try? nginx.kill() }
            var configuration = HTTPClientConfiguration()
            configuration.followsRedirects = true
            let client = HTTPClient(on: loop, configuration: configuration)
            defer { client.close() }
            let base = "http://127.0.0.1:\(port)"
            var first: String?
            for attempt in 0..<100 {
                do {
                    first = try await client.execute(.get, "\(base)/connection").body.collect().string
                    break
                } catch let error as HTTPClientError where error.kind == .connectFailed && attempt < 99 {
                    try await loop.sleep(for: .milliseconds(50))  // nginx is still starting: poll its port
                }
            }
            let second = try await client.execute(.get, "\(base)/connection").body.collect().string
            #expect(first != nil && first == second, "the second request reused the first connection")
            let file = try await client.execute(.get, "\(base)/big.txt")
            #expect(file.head.headerFields[.contentLength] == "\(big.utf8.count)")
            #expect(try await file.body.collect(upTo: 1 << 20).string == big)
            #expect(try await client.execute(.get, "\(base)/moved").body.collect().string == second)
            try nginx.kill()
            _ = try await nginx.wait()
        }
    }
}

/// A loop-local counter a `@Sendable` factory can bump (it runs on the loop's thread only).
final class Counter: @unchecked Sendable {
    // @unchecked Sendable: touched only from the one loop's tasks in the test that owns it.
    var value = 0
}

func writeFile(_ path: String, _ text: String) throws {
    guard let file = fopen(path, "w") else { throw TestFailure(path) }
    defer { fclose(file) }
    fputs(text, file)
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = "cannot write \(description)" }
}
