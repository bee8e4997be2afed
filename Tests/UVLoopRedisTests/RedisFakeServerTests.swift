import Testing
import UVLoop
import UVLoopRedis
import UVLoopTestSupport

/// The client against servers we wrote to misbehave: one that never answers, one that sends garbage.
@Suite("RedisClient against misbehaving servers")
struct RedisFakeServerTests {
    @Test("a server that accepts and never answers: the command times out with a clear error")
    func silentServer() async throws {
        try await onLoop { loop in
            let listener = try TCPListener(host: "127.0.0.1", port: 0, on: loop)
            defer { listener.close() }
            let accepted = loop.spawn {
                let connection = try await listener.accept()
                defer { connection.close() }
                // Reads and says nothing, until the client goes away.
                while try await connection.read() != nil {}
            }
            var options = RedisClientOptions()
            options.commandTimeout = .milliseconds(200)
            let redis = try await RedisClient.connect(url: "redis://127.0.0.1:\(listener.port)", options: options, on: loop)
            await #expect(throws: RedisError.timeout("redis 127.0.0.1:\(listener.port): GET timed out after 0.2 s")) {
                _ = try await redis.get("anything")
            }
            redis.close()
            await accepted.value
        }
    }

    @Test("a server that never answers the handshake: connect fails within the connect timeout")
    func silentHandshake() async throws {
        try await onLoop { loop in
            let listener = try TCPListener(host: "127.0.0.1", port: 0, on: loop)
            defer { listener.close() }
            let accepted = loop.spawn {
                let connection = try await listener.accept()
                defer { connection.close() }
                while try await connection.read() != nil {}
            }
            var options = RedisClientOptions()
            options.connectTimeout = .milliseconds(200)
            await #expect(
                throws: RedisError.connection("redis 127.0.0.1:\(listener.port): no answer to the handshake within 0.2 s")
            ) {
                _ = try await RedisClient.connect(url: "redis://:secret@127.0.0.1:\(listener.port)/1", options: options, on: loop)
            }
            await accepted.value
        }
    }

    @Test("a server that sends garbage: a protocol violation, and the connection is closed")
    func garbageServer() async throws {
        let sawClose = try await onLoop { loop -> Bool in
            let listener = try TCPListener(host: "127.0.0.1", port: 0, on: loop)
            defer { listener.close() }
            let closedByClient = Counter()
            let accepted = loop.spawn {
                let connection = try await listener.accept()
                defer { connection.close() }
                _ = try await connection.read()
                try connection.write("HTTP/1.1 400 Bad Request\r\n\r\n")
                // The client must hang up: end of stream, not more requests.
                while try await connection.read() != nil {}
                closedByClient.value = 1
            }
            var options = RedisClientOptions()
            options.reconnect = RedisReconnectPolicy(initialDelay: .seconds(10))
            let redis = try await RedisClient.connect(url: "redis://127.0.0.1:\(listener.port)", options: options, on: loop)
            defer { redis.close() }
            await #expect(
                throws: RedisError.protocolViolation("redis 127.0.0.1:\(listener.port): unknown reply type byte 'H'; connection closed")
            ) {
                try await redis.ping()
            }
            await accepted.value
            return closedByClient.value == 1
        }
        #expect(sawClose)
    }

    @Test("a reply larger than the limit is a protocol violation, not an allocation")
    func oversizedReply() async throws {
        try await onLoop { loop in
            let listener = try TCPListener(host: "127.0.0.1", port: 0, on: loop)
            defer { listener.close() }
            let accepted = loop.spawn {
                let connection = try await listener.accept()
                defer { connection.close() }
                _ = try await connection.read()
                try connection.write("$2000000000\r\n")
                while try await connection.read() != nil {}
            }
            var options = RedisClientOptions()
            options.decoderLimits.maxBulkLength = 1024 * 1024
            options.reconnect = RedisReconnectPolicy(initialDelay: .seconds(10))
            let redis = try await RedisClient.connect(url: "redis://127.0.0.1:\(listener.port)", options: options, on: loop)
            defer { redis.close() }
            await #expect(
                throws: RedisError.protocolViolation(
                    "redis 127.0.0.1:\(listener.port): bulk string of 2000000000 bytes exceeds the limit of 1048576; connection closed")
            ) {
                _ = try await redis.get("big")
            }
            await accepted.value
        }
    }

    @Test("a server that stops reading: past maxQueuedWriteBytes, new commands wait and time out unsent")
    func serverStopsReading() async throws {
        try await onLoop { loop in
            let listener = try TCPListener(host: "127.0.0.1", port: 0, on: loop)
            defer { listener.close() }
            let done = Event(on: loop)
            let accepted = loop.spawn {
                let connection = try await listener.accept()
                defer { connection.close() }
                try await done.wait()  // never reads
            }
            var options = RedisClientOptions()
            options.commandTimeout = .milliseconds(300)
            options.maxQueuedWriteBytes = 64 * 1024
            let redis = try await RedisClient.connect(url: "redis://127.0.0.1:\(listener.port)", options: options, on: loop)
            defer { redis.close() }
            // 32 MiB: more than the kernel's socket buffers take, so most of it stays queued.
            let big = loop.spawn {
                await #expect(throws: RedisError.self) { try await redis.set("big", Bytes([UInt8](repeating: 0x62, count: 32 << 20))) }
            }
            while redis.inFlightCount == 0 { try await loop.sleep(for: .milliseconds(1)) }
            await #expect(throws: RedisError.timeout("redis 127.0.0.1:\(listener.port): PING timed out after 0.3 s")) {
                try await redis.ping()
            }
            #expect(redis.inFlightCount == 1, "the PING was never written")
            await big.value
            done.set()
            await accepted.value
        }
    }
}
