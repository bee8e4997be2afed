import Testing
import UVLoopRedis

@Suite("RedisConfiguration")
struct RedisConfigurationTests {
    @Test("parses host, port, user, password and database")
    func full() throws {
        let configuration = try RedisConfiguration(url: "redis://chat:p%40ss@127.0.0.1:6380/2")
        #expect(configuration == RedisConfiguration(host: "127.0.0.1", port: 6380, username: "chat", password: "p@ss", database: 2))
        #expect(configuration.endpoint == "127.0.0.1:6380")
    }

    @Test("defaults, a lone password, IPv6 and rediss")
    func variants() throws {
        #expect(try RedisConfiguration(url: "redis://localhost") == RedisConfiguration(host: "localhost"))
        #expect(try RedisConfiguration(url: "redis://:secret@h/0") == RedisConfiguration(host: "h", password: "secret"))
        #expect(try RedisConfiguration(url: "redis://secret@h") == RedisConfiguration(host: "h", password: "secret"))
        let ipv6 = try RedisConfiguration(url: "rediss://[::1]:7000")
        #expect(ipv6 == RedisConfiguration(host: "::1", port: 7000, usesTLS: true))
        #expect(ipv6.endpoint == "[::1]:7000")
    }

    @Test("bad URLs say what is wrong without showing the password")
    func invalid() {
        #expect(throws: RedisError.invalidURL("http://h: scheme must be redis or rediss")) { try RedisConfiguration(url: "http://h") }
        #expect(throws: RedisError.invalidURL("redis://***@h:99999: port \"99999\" is not 1-65535")) {
            try RedisConfiguration(url: "redis://u:secret@h:99999")
        }
        #expect(throws: RedisError.invalidURL("redis://h/x: database \"x\" is not a number")) { try RedisConfiguration(url: "redis://h/x") }
    }
}
