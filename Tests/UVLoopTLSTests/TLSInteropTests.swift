import Testing
import UVLoop
import UVLoopTLS
import UVLoopTestSupport

/// Our client and server against TLS implementations we did not write: Python's `ssl` module
/// and the `openssl` command (both the system's OpenSSL, but their own state machines' drivers).
@Suite("TLS interop")
struct TLSInteropTests {
    /// A Python client: connects to `port`, sends `hello`, prints the reply line and the version.
    private static let pythonClient = #"""
        import socket, ssl, sys
        port, ca, maximum = int(sys.argv[1]), sys.argv[2], sys.argv[3]
        context = ssl.create_default_context(cafile=ca)
        if maximum == "1.1":
            context.minimum_version = ssl.TLSVersion.TLSv1
            context.maximum_version = ssl.TLSVersion.TLSv1_1
            context.set_ciphers("DEFAULT:@SECLEVEL=0")
        try:
            with socket.create_connection(("127.0.0.1", port)) as raw:
                with context.wrap_socket(raw, server_hostname="localhost") as tls:
                    tls.sendall(b"hello from python\n")
                    reply = tls.makefile("rb").readline().decode().strip()
                    session = tls.session
                    print(reply, tls.version())
            # Resume with the ticket the server sent.
            with socket.create_connection(("127.0.0.1", port)) as raw:
                with context.wrap_socket(raw, server_hostname="localhost", session=session) as tls:
                    tls.sendall(b"again\n")
                    tls.makefile("rb").readline()
                    print("resumed" if tls.session_reused else "full handshake")
        except ssl.SSLError as error:
            print("refused", error.reason)
        """#

    /// A Python server: prints its port, accepts one client, echoes one line as "py: <line>".
    private static let pythonServer = #"""
        import socket, ssl, sys
        chain, key = sys.argv[1], sys.argv[2]
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(chain, key)
        context.set_alpn_protocols(["chat/1"])
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        print(listener.getsockname()[1], flush=True)
        listener.settimeout(10)
        raw, _ = listener.accept()
        with context.wrap_socket(raw, server_side=True) as tls:
            line = tls.makefile("rb").readline()
            tls.sendall(b"py: " + line)
            print(tls.selected_alpn_protocol(), tls.version(), flush=True)
            tls.unwrap()
        """#

    @Test("Python's ssl client talks to our server, and resumes with a session ticket")
    func pythonClientToOurServer() async throws {
        let certificates = TestCertificates.shared
        let output = try await onTLSLoop { loop -> String in
            let tlsServer = try TLSTestServer(on: loop, context: try TLSContext(serverConfiguration())) { stream in
                if let line = try await stream.readLine() { try stream.write("echo: \(line)\n") }
                try await stream.flush()
            }
            defer { tlsServer.close() }
            let (output, status) = try await run(
                "python3", ["-c", Self.pythonClient, "\(tlsServer.port)", certificates.caFile, "1.3"], on: loop)
            #expect(status.isSuccess)
            return output
        }
        #expect(output == "echo: hello from python TLSv1.3\nresumed\n")
    }

    @Test("TLS 1.0 and 1.1 clients are refused")
    func oldVersionsRefused() async throws {
        let certificates = TestCertificates.shared
        let (output, serverError) = try await onTLSLoop { loop -> (String, String) in
            let tlsServer = try TLSTestServer(on: loop, context: try TLSContext(serverConfiguration()))
            defer { tlsServer.close() }
            let (output, _) = try await run(
                "python3", ["-c", Self.pythonClient, "\(tlsServer.port)", certificates.caFile, "1.1"], on: loop)
            let outcome = try await tlsServer.nextOutcome()
            if case .failure(let error) = outcome { return (output, "\(error)") }
            return (output, "handshake succeeded")
        }
        #expect(output.hasPrefix("refused "))
        #expect(serverError.hasSuffix("failed: unsupported protocol"))
    }

    @Test("our client talks to Python's ssl server, with ALPN")
    func ourClientToPythonServer() async throws {
        let certificates = TestCertificates.shared
        let (reply, alpn, serverSaw) = try await onTLSLoop { loop -> (String?, String?, String) in
            let child = try Subprocess.spawn(
                "python3", arguments: ["-c", Self.pythonServer, certificates.localhostChain, certificates.localhostKey],
                standardOutput: .pipe, standardError: .discard, on: loop)
            let stdout = child.standardOutput!  // Force-unwrap: asked for as a pipe.
            defer { stdout.close() }
            let port = Int(try await stdout.readLine() ?? "") ?? 0
            var configuration = clientConfiguration()
            configuration.alpnProtocols = ["chat/1"]
            let client = try await TLSStream.connect(host: "localhost", port: port, on: loop, configuration: configuration)
            defer { client.close() }
            try client.write("hi python\n")
            let reply = try await client.readLine()
            #expect(try await client.readLine() == nil)
            #expect(client.receivedCloseNotify)
            let serverSaw = try await stdout.readLine() ?? ""
            try await client.closeWrite()  // the close_notify Python's unwrap() waits for
            _ = try await child.wait()
            return (reply, client.negotiatedProtocol, serverSaw)
        }
        #expect(reply == "py: hi python")
        #expect(alpn == "chat/1")
        #expect(serverSaw == "chat/1 TLSv1.3")
    }

    @Test("openssl s_client talks to our server over TLS 1.2 and 1.3", arguments: ["-tls1_2", "-tls1_3"])
    func opensslClient(version: String) async throws {
        let certificates = TestCertificates.shared
        let output = try await onTLSLoop { loop -> String in
            // s_client -quiet waits for the server to close: answer one line, then close.
            let tlsServer = try TLSTestServer(on: loop, context: try TLSContext(serverConfiguration())) { stream in
                if let line = try await stream.readLine() { try stream.write("echo: \(line)\n") }
                try await stream.closeWrite()
            }
            defer { tlsServer.close() }
            let (output, _) = try await run(
                "openssl",
                [
                    "s_client", "-connect", "127.0.0.1:\(tlsServer.port)", "-CAfile", certificates.caFile, "-verify_return_error",
                    "-servername", "localhost", "-verify_hostname", "localhost", "-quiet", version,
                ], input: "from s_client\n", on: loop)
            return output
        }
        #expect(output == "echo: from s_client\n")
    }

    @Test("our client talks to openssl s_server")
    func opensslServer() async throws {
        let certificates = TestCertificates.shared
        let reply = try await onTLSLoop { loop -> String? in
            let child = try Subprocess.spawn(
                "openssl",
                arguments: [
                    "s_server", "-accept", "127.0.0.1:0", "-cert", certificates.localhostChain, "-key", certificates.localhostKey,
                    "-rev", "-naccept", "1",
                ], standardInput: .discard, standardOutput: .pipe, standardError: .discard, on: loop)
            let stdout = child.standardOutput!  // Force-unwrap: asked for as a pipe.
            defer { stdout.close() }
            var port = 0
            while let line = try await stdout.readLine() {
                if line.hasPrefix("ACCEPT"), let last = line.split(separator: ":").last, let number = Int(last) {
                    port = number
                    break
                }
            }
            let client = try await TLSStream.connect(host: "127.0.0.1", port: port, on: loop, configuration: clientConfiguration())
            defer { client.close() }
            try client.write("stressed\n")
            var reply: String?
            // s_server -rev answers each line reversed, after a greeting line.
            while let line = try await client.readLine() {
                if line == "desserts" {
                    reply = line
                    break
                }
            }
            client.close()
            try child.kill()
            _ = try await child.wait()
            return reply
        }
        #expect(reply == "desserts")
    }
}
