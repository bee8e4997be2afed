import Testing
import UVLoop
import UVLoopRedis
import UVLoopTestSupport

@Suite("RedisSubscription against redis-server")
struct RedisSubscriptionTests {
    @Test("messages of channels and patterns arrive in order; PING works in subscribed mode; unsubscribe stops them")
    func publishAndSubscribe() async throws {
        try await onLoop { loop in
            try await withRedisServer(on: loop) { server in
                let redis = try await RedisClient.connect(url: server.url, on: loop)
                defer { redis.close() }
                let subscription = try await redis.subscribe(to: ["chat:lobby"], patterns: ["chat:room:*"])
                defer { subscription.close() }
                var iterator = subscription.makeAsyncIterator()

                #expect(try await redis.publish("hello", to: "chat:lobby") == 1)
                #expect(try await redis.publish(Bytes("bin\u{0}ary\r\n"), to: "chat:lobby") == 1)
                #expect(try await redis.publish("hi", to: "chat:room:7") == 1)
                #expect(try await iterator.next() == RedisMessage(channel: "chat:lobby", payload: "hello"))
                #expect(try await iterator.next() == RedisMessage(channel: "chat:lobby", payload: Bytes("bin\u{0}ary\r\n")))
                #expect(try await iterator.next() == RedisMessage(channel: "chat:room:7", payload: "hi", pattern: "chat:room:*"))

                // PING in subscribed mode is answered ["pong", ""], not taken for a message.
                try await subscription.ping()
                try await subscription.subscribe(to: ["chat:other"])
                #expect(try await redis.publish("second", to: "chat:other") == 1)
                #expect(try await iterator.next() == RedisMessage(channel: "chat:other", payload: "second"))

                try await subscription.unsubscribe(from: ["chat:lobby", "chat:other"], patterns: ["chat:room:*"])
                #expect(try await redis.publish("nobody", to: "chat:lobby") == 0)
                try await subscription.ping()  // out of subscribed mode: +PONG
                subscription.close()
                #expect(try await iterator.next() == nil, "iteration ends after close")
            }
        }
    }

    @Test("a subscription reconnects after the server restarts and subscribes again")
    func resubscribes() async throws {
        try await onLoop { loop in
            try await withRedisServer(on: loop) { server in
                let logs = LogCapture()
                var options = RedisClientOptions()
                options.reconnect = RedisReconnectPolicy(initialDelay: .milliseconds(20), maxDelay: .milliseconds(100))
                let redis = try await RedisClient.connect(url: server.url, options: options, logger: logs.logger, on: loop)
                defer { redis.close() }
                let subscription = try await redis.subscribe(to: ["chat:lobby"])
                defer { subscription.close() }
                var iterator = subscription.makeAsyncIterator()

                await server.kill()
                try await server.restart()
                // Publish until the resubscribed connection receives one: the server counts
                // subscribers, so this ends as soon as the subscription is back.
                var receivers = 0
                while receivers == 0 {
                    receivers = try await redis.publish("after restart", to: "chat:lobby")
                    if receivers == 0 { try await loop.sleep(for: .milliseconds(10)) }
                }
                #expect(try await iterator.next() == RedisMessage(channel: "chat:lobby", payload: "after restart"))
            }
        }
    }
}
