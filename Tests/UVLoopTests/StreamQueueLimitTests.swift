import Testing
import UVLoop
import UVLoopTestSupport

@Suite("Stream queue limit")
struct StreamQueueLimitTests {
    /// Writes 64 KiB chunks (at most `maxChunks`) with a limit, letting the loop flush between
    /// them; returns how many went through before `WriteQueueFullError`, or nil if none came.
    func chunksBeforeFull(_ stream: TCPStream, limit: Int, maxChunks: Int, on loop: Loop) async throws -> Int? {
        let chunk = Bytes([UInt8](repeating: 0x78, count: 64 * 1024))
        for count in 0..<maxChunks {
            do {
                try stream.write(chunk, queueLimit: limit)
            } catch let error as WriteQueueFullError {
                #expect(error.limit == limit && error.queued > limit)
                return count
            }
            try await loop.sleep(for: .zero)  // one loop iteration: the queue is handed to libuv
        }
        return nil
    }

    @Test("a peer that never reads takes the queue over its limit")
    func nonReadingPeer() async throws {
        let chunks = try await onLoop { loop -> Int? in
            let (client, server) = try await connectedPair(on: loop)
            defer { close(client, server) }
            // The kernel's buffers take a few MiB first; 64 MiB is far more than enough.
            return try await chunksBeforeFull(server, limit: 256 * 1024, maxChunks: 1024, on: loop)
        }
        #expect(chunks != nil)
    }

    @Test("a peer that reads everything never hits the limit")
    func readingPeer() async throws {
        let outcome = try await onLoop { loop -> (Int?, Int) in
            let (client, server) = try await connectedPair(on: loop)
            defer { close(client, server) }
            var received = 0
            let reader = loop.spawn { while let bytes = try await client.read() { received += bytes.count } }
            let full = try await chunksBeforeFull(server, limit: 1024 * 1024, maxChunks: 256, on: loop)
            try await server.closeWrite()
            await reader.value
            return (full, received)
        }
        #expect(outcome.0 == nil)
        #expect(outcome.1 == 256 * 64 * 1024)
    }

    @Test("a closed stream throws its UVError, not WriteQueueFullError")
    func closedStream() async throws {
        let error = try await onLoop { loop -> (any Error)? in
            let (client, server) = try await connectedPair(on: loop)
            client.close()
            server.close()
            do { try server.write("x\n", queueLimit: 1024) } catch { return error }
            return nil
        }
        #expect(error is UVError)
    }
}
