import Testing
import UVLoop
import UVLoopTLS
import UVLoopTestSupport

@Suite("TLSStream")
struct TLSStreamTests {
    @Test("our client and our server exchange lines over TLS 1.3 with verification", arguments: [TLSConfiguration.Version.tls13, .tls12])
    func roundTrip(version: TLSConfiguration.Version) async throws {
        let (versions, replies) = try await onTLSLoop { loop -> ([String], [String]) in
            var server = serverConfiguration()
            server.minimumVersion = version
            server.maximumVersion = version
            let tlsServer = try TLSTestServer(on: loop, context: try TLSContext(server), serve: echoLines)
            defer { tlsServer.close() }
            let client = try await TLSStream.connect(
                host: "localhost", port: tlsServer.port, on: loop, configuration: clientConfiguration())
            defer { client.close() }
            try client.write("hello\n")
            try client.write("split ")
            try client.write("line\r\n")
            var replies: [String] = []
            for _ in 0..<2 { replies.append(try await client.readLine() ?? "<eof>") }
            try await client.closeWrite()
            #expect(try await client.readLine() == nil)
            let serverVersion = try await tlsServer.nextOutcome().get()
            return ([client.protocolVersion, serverVersion], replies)
        }
        let name = version == .tls13 ? "TLSv1.3" : "TLSv1.2"
        #expect(versions == [name, name])
        #expect(replies == ["echo: hello", "echo: split line"])
    }

    @Test("TLS runs over a Unix-domain socket just as over TCP")
    func overUnixSocket() async throws {
        let certificates = TestCertificates.shared
        let reply = try await onTLSLoop { loop -> String? in
            let path = certificates.path("tls-\(UInt32.random(in: 0...UInt32.max)).sock")
            let listener = try UnixListener(path: path, on: loop)
            defer { listener.close() }
            let context = try TLSContext(serverConfiguration())
            let serverTask = loop.spawn {
                let connection = try await listener.accept()
                let stream = try await TLSStream.accept(over: connection, context: context)
                defer { stream.close() }
                try await echoLines(stream)
            }
            let connection = try await PipeStream.connect(path: path, on: loop)
            let client = try await TLSStream(wrapping: connection, configuration: clientConfiguration(), serverName: "localhost")
            defer { client.close() }
            try client.write("over a unix socket\n")
            let reply = try await client.readLine()
            try await client.closeWrite()
            #expect(try await client.readLine() == nil)
            await serverTask.value
            return reply
        }
        #expect(reply == "echo: over a unix socket")
    }

    @Test("an IP address is verified against the certificate's IP names")
    func verifiesIPAddress() async throws {
        let reply = try await onTLSLoop { loop -> String? in
            let tlsServer = try TLSTestServer(on: loop, context: try TLSContext(serverConfiguration()), serve: echoLines)
            defer { tlsServer.close() }
            let client = try await TLSStream.connect(
                host: "127.0.0.1", port: tlsServer.port, on: loop, configuration: clientConfiguration())
            defer { client.close() }
            try client.write("by address\n")
            return try await client.readLine()
        }
        #expect(reply == "echo: by address")
    }

    @Test(
        "verification failures name the peer and OpenSSL's reason",
        arguments: [
            ("selfsigned", "certificate verify failed (self-signed certificate)"),
            ("wronghost", "certificate verify failed (hostname mismatch)"),
            ("expired", "certificate verify failed (certificate has expired)"),
        ])
    func verificationFailures(certificate: String, expected: String) async throws {
        let certificates = TestCertificates.shared
        let (message, kind, serverFailed) = try await onTLSLoop { loop -> (String, TLSError.Kind?, Bool) in
            let server = TLSConfiguration.server(
                certificateChain: certificates.path("\(certificate).pem"), privateKey: certificates.path("\(certificate).key"))
            let tlsServer = try TLSTestServer(on: loop, context: try TLSContext(server))
            defer { tlsServer.close() }
            let error = await thrownError {
                let client = try await TLSStream.connect(
                    host: "localhost", port: tlsServer.port, on: loop, configuration: clientConfiguration())
                client.close()
            }
            let outcome = try await tlsServer.nextOutcome()
            return ("\(error.map { "\($0)" } ?? "")", (error as? TLSError)?.kind, (try? outcome.get()) == nil)
        }
        #expect(message.hasPrefix("TLS handshake with localhost:"))
        #expect(message.hasSuffix("failed: \(expected)"))
        #expect(kind == .certificateVerificationFailed)
        #expect(serverFailed, "the server sees the client's alert")
    }

    @Test("insecureNoVerification connects to a self-signed server")
    func insecure() async throws {
        let certificates = TestCertificates.shared
        let reply = try await onTLSLoop { loop -> String? in
            let server = TLSConfiguration.server(certificateChain: certificates.selfSignedChain, privateKey: certificates.selfSignedKey)
            let tlsServer = try TLSTestServer(on: loop, context: try TLSContext(server), serve: echoLines)
            defer { tlsServer.close() }
            let client = try await TLSStream.connect(
                host: "localhost", port: tlsServer.port, on: loop, configuration: .client(verification: .insecureNoVerification))
            defer { client.close() }
            try client.write("anyway\n")
            return try await client.readLine()
        }
        #expect(reply == "echo: anyway")
    }

    @Test("ALPN: the server picks its preferred protocol among the client's; no overlap fails")
    func alpn() async throws {
        let (chosen, failure) = try await onTLSLoop { loop -> (String?, String) in
            var server = serverConfiguration()
            server.alpnProtocols = ["h2", "http/1.1"]
            let tlsServer = try TLSTestServer(on: loop, context: try TLSContext(server))
            defer { tlsServer.close() }
            var client = clientConfiguration()
            client.alpnProtocols = ["http/1.1", "h2"]
            let stream = try await TLSStream.connect(host: "localhost", port: tlsServer.port, on: loop, configuration: client)
            let chosen = stream.negotiatedProtocol
            stream.close()
            client.alpnProtocols = ["spdy/1"]
            let error = await thrownError {
                let stream = try await TLSStream.connect(host: "localhost", port: tlsServer.port, on: loop, configuration: client)
                stream.close()
            }
            return (chosen, "\(error.map { "\($0)" } ?? "")")
        }
        #expect(chosen == "h2")
        #expect(failure.hasSuffix("failed: tlsv1 alert no application protocol"))
    }

    @Test("SNI: the server answers with the certificate that matches the requested name")
    func serverNameIndication() async throws {
        let certificates = TestCertificates.shared
        let (names, defaultWorks) = try await onTLSLoop { loop -> ([String?], Bool) in
            var server = serverConfiguration()
            server.certificates.append(.init(chainFile: certificates.altChain, privateKeyFile: certificates.altKey))
            var requested: [String?] = []
            let tlsServer = try TLSTestServer(on: loop, context: try TLSContext(server)) { stream in
                requested.append(stream.engine.requestedServerName)
            }
            defer { tlsServer.close() }
            // Verification of "alt.test" succeeds only if the server sent the alt.test certificate.
            let tcp = try await TCPStream.connect(host: "127.0.0.1", port: tlsServer.port, on: loop)
            let alt = try await TLSStream(wrapping: tcp, configuration: clientConfiguration(), serverName: "alt.test")
            alt.close()
            _ = try await tlsServer.nextOutcome().get()
            let plain = try await TLSStream.connect(host: "localhost", port: tlsServer.port, on: loop, configuration: clientConfiguration())
            plain.close()
            _ = try await tlsServer.nextOutcome().get()
            return (requested, true)
        }
        #expect(names == ["alt.test", "localhost"])
        #expect(defaultWorks)
    }

    @Test("closeWrite sends close_notify: the peer reads to the end, answers, and sees close_notify")
    func halfClose() async throws {
        let (serverSaw, clientGot) = try await onTLSLoop { loop -> ([String], [String]) in
            var serverSaw: [String] = []
            let tlsServer = try TLSTestServer(on: loop, context: try TLSContext(serverConfiguration())) { stream in
                while let line = try await stream.readLine() { serverSaw.append(line) }
                serverSaw.append("closeNotify=\(stream.receivedCloseNotify)")
                try stream.write("after your close\n")
                try await stream.closeWrite()
            }
            defer { tlsServer.close() }
            let client = try await TLSStream.connect(
                host: "localhost", port: tlsServer.port, on: loop, configuration: clientConfiguration())
            defer { client.close() }
            try client.write("one\ntwo\n")
            try await client.closeWrite()
            #expect(throws: (any Error).self) { try client.write("too late\n") }
            var got: [String] = []
            while let line = try await client.readLine() { got.append(line) }
            got.append("closeNotify=\(client.receivedCloseNotify)")
            _ = try await tlsServer.nextOutcome()
            return (serverSaw, got)
        }
        #expect(serverSaw == ["one", "two", "closeNotify=true"])
        #expect(clientGot == ["after your close", "closeNotify=true"])
    }

    @Test("close sends close_notify before the connection goes")
    func closeSendsCloseNotify() async throws {
        let sawCloseNotify = try await onTLSLoop { loop -> Bool in
            let result = Box<Bool>()
            let tlsServer = try TLSTestServer(on: loop, context: try TLSContext(serverConfiguration())) { stream in
                while try await stream.readLine() != nil {}
                result.value = stream.receivedCloseNotify
            }
            defer { tlsServer.close() }
            let client = try await TLSStream.connect(
                host: "localhost", port: tlsServer.port, on: loop, configuration: clientConfiguration())
            try client.write("bye\n")
            client.close()
            _ = try await tlsServer.nextOutcome()
            return result.value ?? false
        }
        #expect(sawCloseNotify)
    }

    @Test("a peer that closes without close_notify ends the stream (tolerated, and reported)")
    func missingCloseNotify() async throws {
        let (lines, closeNotify) = try await onTLSLoop { loop -> ([String], Bool) in
            let tlsServer = try TLSTestServer(on: loop, context: try TLSContext(serverConfiguration())) { stream in
                try stream.write("last words\n")
                try await stream.flush()
                stream.underlying.close()  // no close_notify
            }
            defer { tlsServer.close() }
            let client = try await TLSStream.connect(
                host: "localhost", port: tlsServer.port, on: loop, configuration: clientConfiguration())
            defer { client.close() }
            var lines: [String] = []
            while let line = try await client.readLine() { lines.append(line) }
            return (lines, client.receivedCloseNotify)
        }
        #expect(lines == ["last words"])
        #expect(!closeNotify)
    }

    @Test("several megabytes each way, with drain for backpressure, arrive intact")
    func largeWrites() async throws {
        let (received, expected) = try await onTLSLoop { loop -> (UInt64, UInt64) in
            let chunk = Bytes((0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
            let chunks = 60  // 6 MB
            let tlsServer = try TLSTestServer(on: loop, context: try TLSContext(serverConfiguration())) { stream in
                // Echo everything back as it comes, following the client's reading pace.
                while let bytes = try await stream.read() {
                    try stream.write(bytes)
                    try await stream.drain()
                }
                try await stream.closeWrite()
            }
            defer { tlsServer.close() }
            let client = try await TLSStream.connect(
                host: "localhost", port: tlsServer.port, on: loop, configuration: clientConfiguration())
            defer { client.close() }
            var sum: UInt64 = 0
            let reader = loop.spawn {
                while let bytes = try await client.read() {
                    bytes.withUnsafeBytes { for byte in $0 { sum = sum &* 31 &+ UInt64(byte) } }
                }
            }
            var expected: UInt64 = 0
            for _ in 0..<chunks {
                try client.write(chunk)
                #expect(client.bufferedWriteCount < 2 * 1024 * 1024, "drain keeps the queue bounded")
                try await client.drain()
                chunk.withUnsafeBytes { for byte in $0 { expected = expected &* 31 &+ UInt64(byte) } }
            }
            try await client.closeWrite()
            await reader.value
            return (sum, expected)
        }
        #expect(received == expected)
    }

    @Test("ciphertext fed one byte at a time through a proxy still makes lines")
    func oneByteRecords() async throws {
        let replies = try await onTLSLoop { loop -> [String] in
            let tlsServer = try TLSTestServer(on: loop, context: try TLSContext(serverConfiguration()), serve: echoLines)
            defer { tlsServer.close() }
            // A proxy that forwards each direction one byte per write, flushing each.
            let proxy = try TCPListener(host: "127.0.0.1", port: 0, on: loop)
            defer { proxy.close() }
            let proxyTask = loop.spawn {
                let inbound = try await proxy.accept()
                let outbound = try await TCPStream.connect(host: "127.0.0.1", port: tlsServer.port, on: loop)
                defer { close(inbound, outbound) }
                func pump(_ from: TCPStream, _ to: TCPStream) async throws {
                    while let bytes = try await from.read() {
                        for index in 0..<bytes.count {
                            try to.write(bytes.slice(index..<index + 1))
                            try await to.flush()
                        }
                    }
                    try await to.closeWrite()
                }
                try await loop.withSpawnGroup { group in
                    group.spawn { try await pump(inbound, outbound) }
                    try await pump(outbound, inbound)
                }
            }
            let client = try await TLSStream.connect(host: "localhost", port: proxy.port, on: loop, configuration: clientConfiguration())
            defer { client.close() }
            try client.write("through the proxy\n")
            let first = try await client.readLine() ?? "<eof>"
            try client.write("again\n")
            let second = try await client.readLine() ?? "<eof>"
            try await client.closeWrite()
            _ = try await client.readLine()
            await proxyTask.value
            return [first, second]
        }
        #expect(replies == ["echo: through the proxy", "echo: again"])
    }

    @Test("the lines a loop iteration writes to a TLS stream leave as one record")
    func oneRecordPerIteration() async throws {
        let (records, text) = try await onTLSLoop { loop -> (Int, String) in
            var server = serverConfiguration()
            server.sessionTickets = false  // TLS 1.3 tickets would be records of their own
            let tlsServer = try TLSTestServer(on: loop, context: try TLSContext(server)) { stream in
                guard try await stream.readLine() != nil else { return }
                // Three writes with no wait between them: one iteration, one SSL_write.
                try stream.write("one\n")
                try stream.write("two\n")
                try stream.write("three\n")
                try await stream.flush()
                // Stays until the client is done: close_notify would be a record of its own.
                _ = try? await stream.readLine()
            }
            defer { tlsServer.close() }
            // A client that sees the records: an engine driven by hand over a TCP stream.
            let raw = try await TCPStream.connect(host: "127.0.0.1", port: tlsServer.port, on: loop)
            defer { raw.close() }
            let engine = try TLSEngine(context: try TLSContext(clientConfiguration()), serverName: "localhost", peer: "test")
            while true {
                let done = try engine.handshake()
                if let output = engine.takeOutput() { try raw.write(output) }
                if done { break }
                guard let input = try await raw.read() else { return (0, "<closed during the handshake>") }
                engine.feed(input)
            }
            try engine.write(Bytes("go\n"))
            if let output = engine.takeOutput() { try raw.write(output) }
            var ciphertext: [UInt8] = []
            var text = ""
            while text.count < "one\ntwo\nthree\n".count, let input = try await raw.read() {
                ciphertext += input.array
                engine.feed(input)
                while case .plaintext(let bytes) = try engine.read() { text += bytes.string }
            }
            // Count the records: a 5-byte header each (type, version, length).
            var records = 0
            var offset = 0
            while offset + 5 <= ciphertext.count {
                records += 1
                offset += 5 + (Int(ciphertext[offset + 3]) << 8 | Int(ciphertext[offset + 4]))
            }
            return (records, text)
        }
        #expect(text == "one\ntwo\nthree\n")
        #expect(records == 1)
    }

    @Test("whenReadable calls back without a task once a line is decrypted, and at the end")
    func whenReadableOverTLS() async throws {
        let (registered, line, end, counts) = try await onTLSLoop { loop -> (Bool, String?, String?, [Int]) in
            let readable = Event(on: loop)
            let result = Box<(Bool, String?, String?, [Int])>()
            let tlsServer = try TLSTestServer(on: loop, context: try TLSContext(serverConfiguration())) { stream in
                var calls = 0
                let registered = stream.whenReadable {
                    calls += 1
                    readable.set()
                }
                try stream.write("ready\n")
                try await readable.wait()
                let line = try await stream.readLine()
                let afterLine = calls
                readable.clear()
                stream.whenReadable {
                    calls += 1
                    readable.set()
                }
                try stream.write("next\n")
                try await readable.wait()
                let end = try await stream.readLine()
                result.value = (registered, line, end ?? "<end>", [afterLine, calls])
            }
            defer { tlsServer.close() }
            let client = try await TLSStream.connect(
                host: "localhost", port: tlsServer.port, on: loop, configuration: clientConfiguration())
            defer { client.close() }
            #expect(try await client.readLine() == "ready")
            try client.write("hello\n")
            #expect(try await client.readLine() == "next")
            try await client.closeWrite()
            _ = try await tlsServer.nextOutcome()
            return result.value ?? (false, nil, nil, [])
        }
        #expect(registered)
        #expect(line == "hello")
        #expect(end == "<end>")
        #expect(counts == [1, 2])
    }
}
