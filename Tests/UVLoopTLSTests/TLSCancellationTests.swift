import Testing
import UVLoop
import UVLoopTLS
import UVLoopTestSupport

/// Every wait of a TLS stream ends with `CancellationError` when its task is cancelled.
@Suite("TLS cancellation")
struct TLSCancellationTests {
    @Test("a handshake waiting for the peer is cancelled")
    func handshake() async throws {
        let cancelled = try await onTLSLoop { loop -> Bool in
            // A TCP listener that never speaks TLS: the client waits for the ServerHello.
            let listener = try TCPListener(host: "127.0.0.1", port: 0, on: loop)
            defer { listener.close() }
            let result = Box<Bool>()
            let task = loop.spawn {
                do {
                    let stream = try await TLSStream.connect(
                        host: "localhost", port: listener.port, on: loop, configuration: clientConfiguration())
                    stream.close()
                    result.value = false
                } catch {
                    result.value = error is CancellationError
                }
            }
            let peer = try await listener.accept()
            defer { peer.close() }
            _ = try await peer.read()  // the ClientHello arrived: the client is waiting
            task.cancel()
            await task.value
            return result.value ?? false
        }
        #expect(cancelled)
    }

    @Test("a read waiting for data is cancelled, and the stream stays usable")
    func read() async throws {
        let (cancelled, after) = try await onTLSLoop { loop -> (Bool, String?) in
            let tlsServer = try TLSTestServer(on: loop, context: try TLSContext(serverConfiguration()), serve: echoLines)
            defer { tlsServer.close() }
            let client = try await TLSStream.connect(
                host: "localhost", port: tlsServer.port, on: loop, configuration: clientConfiguration())
            defer { client.close() }
            let result = Box<Bool>()
            let task = loop.spawn {
                do {
                    _ = try await client.readLine()
                    result.value = false
                } catch {
                    result.value = error is CancellationError
                }
            }
            try await loop.sleep(for: .milliseconds(20))  // let the reader reach its wait (no event marks it)
            task.cancel()
            await task.value
            try client.write("next\n")
            return (result.value ?? false, try await client.readLine())
        }
        #expect(cancelled)
        #expect(after == "echo: next")
    }

    @Test("drain and flush waiting on a peer that does not read are cancelled")
    func drainAndFlush() async throws {
        let results = try await onTLSLoop { loop -> [Bool] in
            let stalled = Event(on: loop)
            let tlsServer = try TLSTestServer(on: loop, context: try TLSContext(serverConfiguration())) { _ in
                try await stalled.wait()  // never reads
            }
            defer {
                stalled.set()
                tlsServer.close()
            }
            let client = try await TLSStream.connect(
                host: "localhost", port: tlsServer.port, on: loop, configuration: clientConfiguration())
            defer { client.close() }
            var results: [Bool] = []
            for useFlush in [false, true] {
                let result = Box<Bool>()
                let task = loop.spawn {
                    do {
                        // Fill the socket buffers until the queue stays over the high water mark.
                        let chunk = Bytes([UInt8](repeating: 0x61, count: 256 * 1024))
                        for _ in 0..<64 { try client.write(chunk) }
                        if useFlush { try await client.flush() } else { try await client.drain() }
                        result.value = false
                    } catch {
                        result.value = error is CancellationError
                    }
                }
                try await loop.sleep(for: .milliseconds(50))
                task.cancel()
                await task.value
                results.append(result.value ?? false)
            }
            return results
        }
        #expect(results == [true, true])
    }
}
