import Logging
import Testing
import UVLoop
import UVLoopRedis
import UVLoopTestSupport

@Suite("RedisClient against redis-server")
struct RedisClientTests {
    @Test("GET, SET with a TTL, DEL, INCR, EXPIRE, and a typed server error")
    func keys() async throws {
        try await onLoop { loop in
            try await withRedisServer(on: loop) { server in
                let redis = try await RedisClient.connect(url: server.url + "/3", on: loop)
                defer { redis.close() }
                #expect(try await redis.get("missing") == nil)
                try await redis.set("greeting", "hello")
                #expect(try await redis.get("greeting") == "hello")
                #expect(try await redis.incr("visits") == 1)
                #expect(try await redis.incr("visits") == 2)
                #expect(try await redis.expire("visits", after: .seconds(100)))
                #expect(try await redis.expire("nothing", after: .milliseconds(1500)) == false)
                let ttl = try await redis.send(["PTTL", "visits"]).integer ?? -1
                #expect((99_000...100_000).contains(ttl))
                try await redis.set("session", "x", expiresIn: .milliseconds(2500))
                #expect((1...2500).contains(try await redis.send(["PTTL", "session"]).integer ?? -1))
                #expect(try await redis.del("greeting", "visits", "missing") == 2)
                // The URL's database was selected: key "session" is in db 3, not 0.
                #expect(try await redis.send(["DBSIZE"]).integer == 1)
                try await redis.send(["SELECT", "0"])
                #expect(try await redis.send(["DBSIZE"]).integer == 0)

                try await redis.send(["LPUSH", "list", "a"])
                await #expect(throws: RedisError.server("WRONGTYPE Operation against a key holding the wrong kind of value")) {
                    try await redis.incr("list")
                }
                do {
                    try await redis.send(["NOSUCHCOMMAND"])
                    Issue.record("an unknown command succeeded")
                } catch let error as RedisError {
                    #expect(error.code == "ERR")
                }
                // The connection is still good after error replies.
                #expect(try await redis.ping() == "PONG")
            }
        }
    }

    @Test("SET NX PX claims a name once, until it expires")
    func claim() async throws {
        try await onLoop { loop in
            try await withRedisServer(on: loop) { server in
                let redis = try await RedisClient.connect(url: server.url, on: loop)
                defer { redis.close() }
                #expect(try await redis.set("name:lobby:ada", "node-1", onlyIfNotExists: true, expiresIn: .seconds(15)))
                #expect(try await redis.set("name:lobby:ada", "node-2", onlyIfNotExists: true, expiresIn: .seconds(15)) == false)
                #expect(try await redis.get("name:lobby:ada") == "node-1")
                #expect((14_000...15_000).contains(try await redis.send(["PTTL", "name:lobby:ada"]).integer ?? -1))
            }
        }
    }

    @Test("HSET, HDEL, HGETALL and EVAL")
    func hashesAndScripts() async throws {
        try await onLoop { loop in
            try await withRedisServer(on: loop) { server in
                let redis = try await RedisClient.connect(url: server.url, on: loop)
                defer { redis.close() }
                #expect(try await redis.hset("presence:lobby", [("ada", "node-1"), ("bob", "node-2")]) == 2)
                #expect(try await redis.hset("presence:lobby", [("ada", "node-3")]) == 0)
                #expect(try await redis.hgetall("presence:lobby") == ["ada": "node-3", "bob": "node-2"])
                #expect(try await redis.hdel("presence:lobby", ["bob", "carol"]) == 1)
                #expect(try await redis.hgetall("presence:lobby") == ["ada": "node-3"])
                #expect(try await redis.hgetall("missing") == [:])

                let script = "return {KEYS[1], ARGV[1], tonumber(ARGV[2]) + 1, {redis.call('HGET', KEYS[1], 'ada')}}"
                let reply = try await redis.eval(script, keys: ["presence:lobby"], arguments: ["x", "41"])
                #expect(reply == .array([.bulkString("presence:lobby"), .bulkString("x"), .integer(42), .array([.bulkString("node-3")])]))
                await #expect(throws: RedisError.self) { try await redis.eval("return redis.error_reply('CUSTOM failure')") }
            }
        }
    }

    @Test("XADD with MAXLEN ~, XRANGE, XREAD, and XREAD BLOCK woken by an XADD")
    func streams() async throws {
        try await onLoop { loop in
            try await withRedisServer(on: loop) { server in
                let redis = try await RedisClient.connect(url: server.url, on: loop)
                defer { redis.close() }
                let key = "chat:{lobby}:events"
                var ids: [String] = []
                for index in 0..<300 {
                    ids.append(try await redis.xadd(key, [("from", "ada"), ("text", Bytes("line \(index)"))], maxLength: 100))
                }
                let length = try await redis.send(["XLEN", Bytes(key)]).integer ?? 0
                #expect((100..<300).contains(length), "MAXLEN ~ trims to about 100, whole nodes at a time: \(length)")
                let last = try await redis.xrange(key, from: ids[298], count: 5)
                #expect(last.map(\.id) == [ids[298], ids[299]])
                #expect(last[1]["text"] == "line 299" && last[1]["from"] == "ada")
                #expect(last[1].fields.map(\.name) == ["from", "text"])

                let read = try await redis.xread(after: [(key, ids[297])])
                #expect(read.count == 1 && read[0].key == key && read[0].entries.map(\.id) == [ids[298], ids[299]])
                #expect(try await redis.xread(after: [(key, ids[299])]).isEmpty)

                // A blocking read runs on its own connection: the XADD on the main one is not
                // queued behind it, and wakes it.
                let reader = loop.spawn {
                    let got = try await redis.xread(after: [(key, "$")], block: .seconds(5))
                    #expect(got.first?.entries.first?["text"] == "wake up")
                }
                // Wait until the blocking XREAD is at the server (CLIENT LIST shows it blocked).
                while try await redis.send(["INFO", "clients"]).string?.contains("blocked_clients:1") != true {
                    try await loop.sleep(for: .milliseconds(5))
                }
                try await redis.xadd(key, [("text", "wake up")])
                await reader.value
                #expect(try await redis.xread(after: [(key, "$")], block: .milliseconds(50)).isEmpty, "times out empty")
            }
        }
    }

    @Test("10,000 pipelined commands in flight at once, each reply to its own sender")
    func pipelining() async throws {
        let counts = try await onLoop { loop -> (Int, Int) in
            try await withRedisServer(on: loop) { server in
                let redis = try await RedisClient.connect(url: server.url, on: loop)
                defer { redis.close() }
                var tasks: [SpawnedTask] = []
                let mismatches = Counter()
                for index in 0..<10_000 {
                    tasks.append(
                        loop.spawn {
                            let reply = try await redis.send(["ECHO", Bytes("message \(index)")])
                            if reply.string != "message \(index)" { mismatches.value += 1 }
                            try await redis.incr("count")
                        })
                }
                // Let every task write its command before any reply is read.
                try await loop.sleep(for: .zero)
                let inFlight = redis.inFlightCount
                for task in tasks { await task.value }
                #expect(mismatches.value == 0)
                #expect(try await redis.get("count") == "10000")
                return (inFlight, redis.inFlightCount)
            }
        }
        #expect(counts.0 > 1000, "commands were pipelined: \(counts.0) in flight at once")
        #expect(counts.1 == 0)
    }

    @Test("a cancelled command stops waiting; its reply is still consumed in order")
    func cancellation() async throws {
        try await onLoop { loop in
            try await withRedisServer(on: loop) { server in
                let redis = try await RedisClient.connect(url: server.url, on: loop)
                defer { redis.close() }
                let outcome = Counter()
                let blocked = loop.spawn {
                    do {
                        try await redis.send(["BLPOP", "queue", "0.3"])
                        outcome.value = 1
                    } catch is CancellationError {
                        outcome.value = 2
                    }
                }
                while redis.inFlightCount == 0 { try await loop.sleep(for: .milliseconds(1)) }
                blocked.cancel()
                await blocked.value
                #expect(outcome.value == 2)
                // PING queues behind the abandoned BLPOP; it gets PONG, not BLPOP's nil.
                #expect(try await redis.ping() == "PONG")
                #expect(redis.isConnected)
            }
        }
    }

    @Test("a command times out after its limit, with a clear error; the next one works")
    func commandTimeout() async throws {
        try await onLoop { loop in
            try await withRedisServer(on: loop) { server in
                let redis = try await RedisClient.connect(url: server.url, on: loop)
                defer { redis.close() }
                await #expect(throws: RedisError.timeout("redis 127.0.0.1:\(server.port): BLPOP timed out after 0.1 s")) {
                    try await redis.send(["BLPOP", "queue", "0.5"], timeout: .milliseconds(100))
                }
                #expect(try await redis.ping() == "PONG")
            }
        }
    }

    @Test("a short time limit behind a longer one in flight fires at its own deadline")
    func mixedTimeouts() async throws {
        try await onLoop { loop in
            try await withRedisServer(on: loop) { server in
                let redis = try await RedisClient.connect(url: server.url, on: loop)
                defer { redis.close() }
                let long = loop.spawn {
                    let reply = try await redis.send(["BLPOP", "queue", "0.5"], timeout: .seconds(5))
                    #expect(reply.isNull, "BLPOP times out at the server with a null")
                }
                while redis.inFlightCount == 0 { try await loop.sleep(for: .milliseconds(1)) }
                // The PING's reply can come only after BLPOP's, 0.5 s later: its 0.1 s limit
                // must fire first.
                await #expect(throws: RedisError.timeout("redis 127.0.0.1:\(server.port): PING timed out after 0.1 s")) {
                    try await redis.send(["PING"], timeout: .milliseconds(100))
                }
                #expect(redis.inFlightCount == 2)
                await long.value
                #expect(try await redis.ping() == "PONG")
            }
        }
    }
}

/// A mutable count the tasks of one loop share.
final class Counter {
    var value = 0
}
