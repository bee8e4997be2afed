import Testing
import UVLoop
import UVLoopRedis
import UVLoopTestSupport

@Suite("RedisClient reconnection")
struct RedisReconnectTests {
    @Test("after redis-server is killed: in-flight commands fail, one warning, then it reconnects when the server is back")
    func serverKilledAndRestarted() async throws {
        let logs = LogCapture()
        let port = try await onLoop { loop -> Int in
            try await withRedisServer(on: loop) { server in
                var options = RedisClientOptions()
                options.reconnect = RedisReconnectPolicy(initialDelay: .milliseconds(20), maxDelay: .milliseconds(80))
                let redis = try await RedisClient.connect(url: server.url, options: options, logger: logs.logger, on: loop)
                defer { redis.close() }
                try await redis.set("k", "v")

                let inFlight = loop.spawn {
                    // A killed server's kernel closes (FIN) or resets (RST) the connection.
                    let error = await #expect(throws: RedisError.self) { try await redis.send(["BLPOP", "queue", "5"]) }
                    let closed = "redis 127.0.0.1:\(server.port): connection closed by the server"
                    let reset = "redis 127.0.0.1:\(server.port): connection reset by peer"
                    #expect(error == .connection(closed) || error == .connection(reset), "\(String(describing: error))")
                }
                while redis.inFlightCount == 0 { try await loop.sleep(for: .milliseconds(1)) }
                await server.kill()
                await inFlight.value

                // While the server is down, a command waits for the connection, then says why.
                await #expect(
                    throws: RedisError.connection("redis 127.0.0.1:\(server.port): connection refused; PING not sent within 0.3 s")
                ) {
                    try await redis.send(["PING"], timeout: .milliseconds(300))
                }
                #expect(!redis.isConnected)
                try await server.restart()
                // Within the default 5 s limit, PING waits for the reconnection and gets through.
                #expect(try await redis.ping() == "PONG")
                #expect(try await redis.get("k") == nil, "a server without persistence forgot the key")
                return server.port
            }
        }
        let warnings = logs.messages(at: .warning)
        #expect(warnings.count == 1, "one warning per outage: \(warnings)")
        let prefix = "redis 127.0.0.1:\(port): connection refused; retrying in 0.0"
        #expect(warnings.first?.hasPrefix(prefix) == true, "\(warnings)")
        #expect(logs.messages(at: .notice).contains { $0.hasPrefix("redis 127.0.0.1:\(port): reconnected after ") })
    }

    @Test("CLIENT KILL TYPE normal while commands are in flight: they fail, the client reconnects at once")
    func clientKill() async throws {
        let logs = LogCapture()
        let port = try await onLoop { loop -> Int in
            try await withRedisServer(on: loop) { server in
                let redis = try await RedisClient.connect(url: server.url, logger: logs.logger, on: loop)
                let admin = try await RedisClient.connect(url: server.url, on: loop)
                defer { close(redis, admin) }
                let failures = Counter()
                let successes = Counter()
                var tasks: [SpawnedTask] = []
                for index in 0..<500 {
                    tasks.append(
                        loop.spawn {
                            do {
                                try await redis.send(index == 499 ? ["BLPOP", "queue", "5"] : ["INCR", "n"])
                                successes.value += 1
                            } catch let error as RedisError {
                                guard case .connection = error else { throw error }
                                failures.value += 1
                            }
                        })
                }
                // Until the BLPOP is blocked at the server, the INCRs before it are answered.
                while try await admin.send(["INFO", "clients"]).string?.contains("blocked_clients:1") != true {
                    try await loop.sleep(for: .milliseconds(2))
                }
                // SKIPME yes (the default) spares the admin connection that sends it.
                #expect(try await admin.send(["CLIENT", "KILL", "TYPE", "normal"]).integer == 1)
                for task in tasks { await task.value }
                #expect(successes.value == 499 && failures.value == 1)
                #expect(try await redis.incr("n") == 500)
                #expect(redis.isConnected)
                return server.port
            }
        }
        #expect(logs.messages(at: .warning).isEmpty)
        #expect(logs.messages(at: .notice) == ["redis 127.0.0.1:\(port): connection closed by the server; reconnected"])
    }

    @Test("the first connection failing throws at once with the reason")
    func firstConnectRefused() async throws {
        try await onLoop { loop in
            let probe = try TCPListener(host: "127.0.0.1", port: 0, on: loop)
            let port = probe.port
            probe.close()
            await #expect(throws: RedisError.connection("redis 127.0.0.1:\(port): connection refused")) {
                _ = try await RedisClient.connect(url: "redis://127.0.0.1:\(port)", on: loop)
            }
        }
    }

    @Test("a wrong password fails the connection with the server's reason")
    func wrongPassword() async throws {
        try await onLoop { loop in
            try await withRedisServer(on: loop, extraArguments: ["--requirepass", "right"]) { server in
                await #expect(
                    throws: RedisError.connection(
                        "redis 127.0.0.1:\(server.port): AUTH failed: WRONGPASS invalid username-password pair or user is disabled.")
                ) {
                    _ = try await RedisClient.connect(url: "redis://:wrong@127.0.0.1:\(server.port)", on: loop)
                }
                let redis = try await RedisClient.connect(url: "redis://:right@127.0.0.1:\(server.port)", on: loop)
                defer { redis.close() }
                #expect(try await redis.ping() == "PONG")
            }
        }
    }
}

extension RedisClient: Closable {}
