import Testing
import UVLoop
import UVLoopHTTP
import UVLoopTLS
import UVLoopTestSupport

/// `TLSListener`: handshakes off the accept path, and HTTPS through the unchanged `HTTPServer`.
@Suite("TLS listener")
struct TLSListenerTests {
    @Test("HTTPServer over a TLSListener: curl gets two responses on one connection, and a request after an idle pause")
    func httpsThroughHTTPServer() async throws {
        let certificates = TestCertificates.shared
        let outcome = try await onTLSLoop { loop -> [String] in
            let context = try TLSContext(serverConfiguration())
            let listener = TLSListener(try TCPListener(host: "127.0.0.1", port: 0, on: loop), context: context)
            let server = HTTPServer { request, _ in .text("hello \(request.path)\n") }
            let serving = loop.spawn { try await server.run(on: listener) }
            let url = "https://localhost:\(listener.port)"
            // A peer we did not write: curl, verifying our certificate against the test CA,
            // two requests over one keep-alive connection (curl says when it reuses one).
            let curl = try await Subprocess.run(
                [
                    "curl", "-sS", "-v", "--cacert", certificates.caFile, "--resolve", "localhost:\(listener.port):127.0.0.1",
                    "\(url)/one", "\(url)/two",
                ], on: loop)
            var outcome = [curl.standardOutput.string]
            outcome.append(curl.standardError.string.contains("Re-using existing connection") ? "reused" : "not reused")
            // Our own client: a request, a pause past the server's idle tick (its connection
            // then waits with no task, through `TLSStream.whenReadable`), and another request.
            let client = try await TLSStream.connect(
                host: "127.0.0.1", port: listener.port, on: loop, configuration: clientConfiguration(), serverName: "localhost")
            defer { client.close() }
            for path in ["/first", "/after-idle"] {
                try client.write("GET \(path) HTTP/1.1\r\nHost: localhost\r\n\r\n")
                var lines: [String] = []
                while let line = try await client.readLine(), line != "hello \(path)" { lines.append(line) }
                outcome.append(lines.first ?? "")
                if path == "/first" { try await loop.sleep(for: .milliseconds(700)) }
            }
            server.shutdown()
            listener.close()
            await serving.value
            outcome.append("handshake failures: \(listener.failedHandshakes)")
            return outcome
        }
        #expect(outcome == ["hello /one\nhello /two\n", "reused", "HTTP/1.1 200 OK", "HTTP/1.1 200 OK", "handshake failures: 0"])
    }

    @Test("a client that never finishes its handshake holds up no one, and a plaintext one is counted as failed")
    func slowAndBadHandshakes() async throws {
        let result = try await onTLSLoop { loop -> (String?, Int) in
            var configuration = serverConfiguration()
            configuration.handshakeTimeout = .seconds(20)
            let listener = TLSListener(try TCPListener(host: "127.0.0.1", port: 0, on: loop), context: try TLSContext(configuration))
            defer { listener.close() }
            // A silent client: connected, never says hello.
            let silent = try await TCPStream.connect(host: "127.0.0.1", port: listener.port, on: loop)
            defer { silent.close() }
            // A plaintext client: its handshake fails.
            let plain = try await TCPStream.connect(host: "127.0.0.1", port: listener.port, on: loop)
            defer { plain.close() }
            try plain.write("GET / HTTP/1.1\r\n\r\n")
            // A good client behind both is accepted at once.
            let echo = loop.spawn {
                let stream = try await listener.accept()
                defer { stream.close() }
                try stream.write("accepted\n")
                try await stream.flush()
            }
            let client = try await TLSStream.connect(
                host: "127.0.0.1", port: listener.port, on: loop, configuration: clientConfiguration(), serverName: "localhost")
            defer { client.close() }
            let line = try await client.readLine()
            await echo.value
            _ = try? await plain.read()  // the server closes it (after an alert)
            return (line, listener.failedHandshakes)
        }
        #expect(result.0 == "accepted")
        #expect(result.1 == 1)
    }
}
