import Testing
import UVLoop
import UVLoopTLS
import UVLoopTestSupport

/// Peers that do not speak TLS properly: each gets a clean close, and the server goes on.
@Suite("TLS bad peers")
struct TLSBadPeerTests {
    /// Sends `bytes` from a raw TCP client, then (if `thenClose`) closes; returns the server's
    /// handshake error and whether a good client still gets through afterwards.
    private func serverOutcome(sending bytes: [UInt8], thenClose: Bool, timeout: Duration = .seconds(10)) async throws -> (
        String, TLSError.Kind?, Bool
    ) {
        try await onTLSLoop { loop -> (String, TLSError.Kind?, Bool) in
            var server = serverConfiguration()
            server.handshakeTimeout = timeout
            let tlsServer = try TLSTestServer(on: loop, context: try TLSContext(server), serve: echoLines)
            defer { tlsServer.close() }
            let raw = try await TCPStream.connect(host: "127.0.0.1", port: tlsServer.port, on: loop)
            defer { raw.close() }
            try raw.write(Bytes(bytes))
            if thenClose { try await raw.closeWrite() }
            let outcome = try await tlsServer.nextOutcome()
            // The raw client sees the end of the connection (an alert, if anything, then EOF).
            while (try? await raw.read()) != nil {}
            let good = try await TLSStream.connect(host: "localhost", port: tlsServer.port, on: loop, configuration: clientConfiguration())
            defer { good.close() }
            try good.write("still serving\n")
            let stillServing = try await good.readLine() == "echo: still serving"
            switch outcome {
            case .success: return ("handshake succeeded", nil, stillServing)
            case .failure(let error): return ("\(error)", (error as? TLSError)?.kind, stillServing)
            }
        }
    }

    @Test("a plaintext client on the TLS port is refused with OpenSSL's reason")
    func plaintextClient() async throws {
        let (message, kind, stillServing) = try await serverOutcome(
            sending: Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8), thenClose: false)
        #expect(kind == .handshakeFailed)
        #expect(message.hasPrefix("TLS handshake with 127.0.0.1:"))
        #expect(message.hasSuffix("failed: http request"))
        #expect(stillServing)
    }

    @Test("garbage bytes are refused")
    func garbage() async throws {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<2000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let (_, kind, stillServing) = try await serverOutcome(sending: [0x16, 0x03, 0x01, 0x00, 0x10] + bytes, thenClose: false)
        #expect(kind == .handshakeFailed)
        #expect(stillServing)
    }

    @Test("a client that vanishes in the middle of its hello is closed cleanly")
    func truncatedHello() async throws {
        // The start of a ClientHello record that announces 512 bytes, then the end of stream.
        let (message, kind, stillServing) = try await serverOutcome(
            sending: [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01], thenClose: true)
        #expect(kind == .closedDuringHandshake)
        #expect(message.hasSuffix("failed: connection closed by peer"))
        #expect(stillServing)
    }

    @Test("an oversized handshake record is refused")
    func oversizedRecord() async throws {
        // A handshake record header announcing 65535 bytes (over the 16 KiB + 256 limit).
        let (message, kind, stillServing) = try await serverOutcome(
            sending: [0x16, 0x03, 0x01, 0xFF, 0xFF] + [UInt8](repeating: 0x01, count: 17000), thenClose: false)
        #expect(kind == .handshakeFailed)
        #expect(message.hasSuffix("failed: packet length too long") || message.hasSuffix("failed: record layer failure"))
        #expect(stillServing)
    }

    @Test("a client that never finishes its handshake is cut off at the timeout")
    func handshakeTimeout() async throws {
        // One second, not less: the good client that checks the server afterwards shares the
        // timeout, and its handshake takes several hundred milliseconds under TSan.
        let (message, kind, stillServing) = try await serverOutcome(
            sending: [0x16, 0x03, 0x01], thenClose: false, timeout: .seconds(1))
        #expect(kind == .handshakeTimedOut)
        #expect(message.hasSuffix("failed: timed out after 1.0 seconds"))
        #expect(stillServing)
    }

    @Test("a connection reset in the middle of the handshake fails that handshake only")
    func resetMidHandshake() async throws {
        let (_, kind, stillServing) = try await onTLSLoop { loop -> (String, TLSError.Kind?, Bool) in
            let tlsServer = try TLSTestServer(on: loop, context: try TLSContext(serverConfiguration()), serve: echoLines)
            defer { tlsServer.close() }
            // A client that sends a real ClientHello, then resets: wrap a stream we reset on the first reply.
            let raw = try await TCPStream.connect(host: "127.0.0.1", port: tlsServer.port, on: loop)
            let engine = try TLSEngine(context: try TLSContext(clientConfiguration()), serverName: "localhost", peer: "test")
            _ = try engine.handshake()
            if let hello = engine.takeOutput() { try raw.write(hello) }
            _ = try await raw.read()
            raw.reset()
            let outcome = try await tlsServer.nextOutcome()
            let good = try await TLSStream.connect(host: "localhost", port: tlsServer.port, on: loop, configuration: clientConfiguration())
            defer { good.close() }
            try good.write("ok\n")
            let stillServing = try await good.readLine() == "echo: ok"
            if case .failure(let error) = outcome { return ("\(error)", (error as? TLSError)?.kind, stillServing) }
            return ("handshake succeeded", nil, stillServing)
        }
        // The server was waiting for the client's Finished: the reset ends that wait.
        #expect(kind == .closedDuringHandshake || kind == nil)
        #expect(stillServing)
    }

}
