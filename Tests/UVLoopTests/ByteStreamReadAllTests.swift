import Testing
import UVLoop
import UVLoopTestSupport

@Suite("ByteStream.readAll")
struct ByteStreamReadAllTests {
    @Test("reads every chunk up to the end of the stream into one buffer")
    func readsToEnd() async throws {
        let all = try await onLoop { loop -> String in
            let (client, server) = try await connectedPair(on: loop)
            defer { close(client, server) }
            try client.write("first chunk, ")
            try await client.flush()
            try client.write("second chunk, ")
            try client.write("last")
            try await client.closeWrite()
            return try await server.readAll(limit: 1000).string
        }
        #expect(all == "first chunk, second chunk, last")
    }

    @Test("throws ByteLimitExceededError, naming the stream, once more than the limit arrives")
    func limit() async throws {
        let (error, exact) = try await onLoop { loop -> (ByteLimitExceededError?, Int) in
            let (client, server) = try await connectedPair(on: loop)
            defer { close(client, server) }
            try client.write(Bytes([UInt8](repeating: 0x61, count: 100)))
            try await client.closeWrite()
            // Exactly the limit is allowed.
            let exact = try await server.readAll(limit: 100).count
            let (client2, server2) = try await connectedPair(on: loop)
            defer { close(client2, server2) }
            try client2.write(Bytes([UInt8](repeating: 0x61, count: 5000)))
            try await client2.closeWrite()
            do {
                _ = try await server2.readAll(limit: 1000)
                return (nil, exact)
            } catch let error as ByteLimitExceededError {
                return (error, exact)
            }
        }
        #expect(exact == 100)
        let thrown = try #require(error)
        #expect(thrown.limit == 1000)
        #expect(thrown.description.hasSuffix("has more than 1000 bytes (the limit)"))
        #expect(thrown.description.contains("127.0.0.1"))
    }
}
