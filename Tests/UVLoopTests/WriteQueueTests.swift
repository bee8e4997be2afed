import Testing
import UVLoop
import UVLoopTestSupport

@Suite("Stream write queue")
struct WriteQueueTests {
    /// Chunk `index` of a test: `size` bytes that tell the chunk and its position apart.
    private static func chunk(_ index: Int, size: Int) -> [UInt8] {
        (0..<size).map { UInt8(truncatingIfNeeded: index &* 31 &+ $0 &* 7) }
    }

    @Test("more chunks than a writev takes (IOV_MAX) and more bytes than the socket takes arrive whole, in order")
    func partialWrites() async throws {
        let matches = try await onLoop { loop -> Bool in
            let (client, server) = try await connectedPair(on: loop)
            defer { close(client, server) }
            let reader = loop.spawnTask { try await client.readAll(limit: 16 << 20) }
            var expected: [UInt8] = []
            func write(_ index: Int, size: Int) throws {
                let bytes = Self.chunk(index, size: size)
                expected += bytes
                try server.write(Bytes(bytes))
            }
            // 3,000 small chunks in one iteration: the queue grows past its first block, and one
            // writev takes at most 1,024 of them.
            for index in 0..<3_000 { try write(index, size: 17) }
            try await server.flush()
            // More than the socket buffers hold: the kernel takes part, libuv the rest.
            for index in 0..<40 { try write(3_000 + index, size: 64 * 1024) }
            try await server.drain()
            // Queued behind what libuv may still hold.
            for index in 0..<40 { try write(4_000 + index, size: 64 * 1024 + index) }
            try await server.closeWrite()
            return Array(try await reader.value) == expected
        }
        #expect(matches)
    }

    @Test("flush waits for bytes the kernel did not take at once, and resumes when they are written")
    func flushAfterPartialWrite() async throws {
        let counts = try await onLoop { loop -> (Int, Int) in
            let (client, server) = try await connectedPair(on: loop)
            defer { close(client, server) }
            let total = 8 << 20
            try server.write(Bytes(Self.chunk(0, size: total)))
            let reader = loop.spawnTask { try await client.readAll(limit: total).count }
            try await server.flush()
            let backlog = server.bufferedWriteCount
            server.close()
            return (backlog, try await reader.value)
        }
        #expect(counts.0 == 0)
        #expect(counts.1 == 8 << 20)
    }
}
