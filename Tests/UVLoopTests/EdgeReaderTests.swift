import Testing
import UVLoopTestSupport

@testable import UVLoop

/// TCP streams read through the loop's edge-triggered epoll set (``EdgeReader``): an edge is
/// told once, so the end that comes with the last bytes, and bytes that came while reading
/// was paused, must not wait for another.
@Suite("EdgeReader", .timeLimit(.minutes(1)))
struct EdgeReaderTests {
    @Test("the peer's last bytes and its close, arriving together, are both read")
    func endWithLastBytes() async throws {
        let outcome = try await onLoop { loop -> ([String], Bool) in
            let (client, server) = try await connectedPair(on: loop)
            defer { close(client, server) }
            // The server is reading (so registered) before anything arrives.
            let reading = loop.spawnTask { () -> [String] in
                var lines: [String] = []
                while let line = try await server.readLine() { lines.append(line) }
                return lines
            }
            try client.write("last\n")
            try await client.flush()
            client.close()
            return (try await reading.value, loop.edgeReader != nil)
        }
        #expect(outcome.0 == ["last"])
        #expect(outcome.1 == EdgeReader.isEnabled)
    }

    @Test("a stream that stopped reading while its consumer lagged reads on when asked: every byte, then the end")
    func pausedThenResumed() async throws {
        let total = try await onLoop { loop -> Int in
            let (client, server) = try await connectedPair(on: loop)
            defer { close(client, server) }
            // 1 MiB, far past the 128 KiB at which the reading side pauses; nobody reads yet.
            let chunk = Bytes([UInt8](repeating: 0x61, count: 64 * 1024))
            for _ in 0..<16 { try client.write(chunk) }
            let written = loop.spawnTask {
                try await client.flush()
                client.close()
            }
            var total = 0
            // The first read registers the socket; it then holds far more than the reading
            // side takes before pausing, so the reads after it resume a paused stream.
            while let bytes = try await server.read() { total += bytes.count }
            try await written.value
            return total
        }
        #expect(total == 16 * 64 * 1024)
    }
}
