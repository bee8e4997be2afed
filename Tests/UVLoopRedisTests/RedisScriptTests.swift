import Testing
import UVLoop
import UVLoopRedis
import UVLoopTestSupport

@Suite("RedisScript and pipelines")
struct RedisScriptTests {
    @Test("a script runs by its hash, is loaded once, and again after SCRIPT FLUSH (NOSCRIPT)")
    func scriptByHash() async throws {
        try await onLoop { loop in
            try await withRedisServer(on: loop) { server in
                let redis = try await RedisClient.connect(url: server.url, on: loop)
                defer { redis.close() }
                let script = RedisScript("return {KEYS[1], tonumber(ARGV[1]) + 1}")
                #expect(try await script.run(on: redis, keys: ["k"], arguments: ["41"]) == .array([.bulkString("k"), .integer(42)]))
                let hash = try #require(try await redis.send(["SCRIPT", "LOAD", Bytes(script.source)]).bytes)
                #expect(try await redis.send(["SCRIPT", "EXISTS", hash]) == .array([.integer(1)]))
                #expect(try await script.run(on: redis, keys: ["k"], arguments: ["1"]) == .array([.bulkString("k"), .integer(2)]))
                try await redis.send(["SCRIPT", "FLUSH"])
                #expect(try await redis.send(["SCRIPT", "EXISTS", hash]) == .array([.integer(0)]))
                #expect(try await script.run(on: redis, keys: ["k"], arguments: ["9"]) == .array([.bulkString("k"), .integer(10)]))
                #expect(try await redis.send(["SCRIPT", "EXISTS", hash]) == .array([.integer(1)]))
                let failing = RedisScript("return redis.error_reply('CUSTOM failure')")
                await #expect(throws: RedisError.self) { try await failing.run(on: redis) }
            }
        }
    }

    @Test("a pipeline's replies come back in order; an error reply throws after all ran")
    func pipeline() async throws {
        try await onLoop { loop in
            try await withRedisServer(on: loop) { server in
                let redis = try await RedisClient.connect(url: server.url, on: loop)
                defer { redis.close() }
                #expect(try await redis.send(pipeline: []) == [])
                let replies = try await redis.send(pipeline: [["INCR", "a"], ["INCR", "a"], ["SET", "b", "x"], ["GET", "b"]])
                #expect(replies == [.integer(1), .integer(2), .simpleString("OK"), .bulkString("x")])
                await #expect(throws: RedisError.self) {
                    try await redis.send(pipeline: [["INCR", "a"], ["INCR", "b"], ["INCR", "a"]])
                }
                #expect(try await redis.get("a") == "4")
            }
        }
    }
}
