import UVLoop

/// Typed helpers for the key, hash, pub/sub and scripting commands a chat federation uses.
/// Each is one ``RedisClient/send(_:timeout:)`` with the reply checked and converted; a reply
/// of the wrong type throws ``RedisError/protocolViolation(_:)``.
extension RedisClient {
    /// `GET key`: the value, or `nil` if the key does not exist.
    public func get(_ key: some RESPArgument) async throws -> Bytes? {
        try bulkOrNil(await send(["GET", key.respBytes]), "GET")
    }

    /// `SET key value [PX ms]`: stores the value, with an optional time to live.
    public func set(_ key: some RESPArgument, _ value: some RESPArgument, expiresIn ttl: Duration? = nil) async throws {
        var command: [Bytes] = ["SET", key.respBytes, value.respBytes]
        if let ttl { command += ["PX", Bytes(String(Self.milliseconds(ttl)))] }
        try await send(command)
    }

    /// `SET key value NX [PX ms]`: stores the value only if the key does not exist — an atomic
    /// claim. True if this call stored it; false if the key was already there.
    ///
    /// ```swift
    /// let mine = try await redis.set("name:lobby:ada", nodeID, onlyIfNotExists: true, expiresIn: .seconds(15))
    /// ```
    public func set(
        _ key: some RESPArgument, _ value: some RESPArgument, onlyIfNotExists: Bool, expiresIn ttl: Duration? = nil
    ) async throws -> Bool {
        var command: [Bytes] = ["SET", key.respBytes, value.respBytes]
        if onlyIfNotExists { command.append("NX") }
        if let ttl { command += ["PX", Bytes(String(Self.milliseconds(ttl)))] }
        let reply = try await send(command)
        switch reply {
        case .simpleString: return true
        case .bulkString(nil), .array(nil): return false
        default: throw unexpected(reply, "SET")
        }
    }

    /// `DEL key...`: the number of keys that existed and were removed.
    @discardableResult
    public func del(_ keys: [some RESPArgument]) async throws -> Int {
        try integer(await send(["DEL"] + keys.map(\.respBytes)), "DEL")
    }

    /// `DEL key...` for keys given inline: `try await redis.del("a", "b")`.
    @discardableResult
    public func del(_ keys: String...) async throws -> Int { try await del(keys) }

    /// `INCR key`: the value after adding 1 (a missing key counts as 0).
    @discardableResult
    public func incr(_ key: some RESPArgument) async throws -> Int {
        try integer(await send(["INCR", key.respBytes]), "INCR")
    }

    /// `EXPIRE key seconds` (or `PEXPIRE` for a fraction of a second): false if the key does
    /// not exist.
    @discardableResult
    public func expire(_ key: some RESPArgument, after ttl: Duration) async throws -> Bool {
        let milliseconds = Self.milliseconds(ttl)
        let command: [Bytes] =
            milliseconds % 1000 == 0
            ? ["EXPIRE", key.respBytes, Bytes(String(milliseconds / 1000))] : ["PEXPIRE", key.respBytes, Bytes(String(milliseconds))]
        return try integer(await send(command), "EXPIRE") == 1
    }

    /// `PUBLISH channel message`: the number of subscribers that received it (on this node).
    @discardableResult
    public func publish(_ message: some RESPArgument, to channel: some RESPArgument) async throws -> Int {
        try integer(await send(["PUBLISH", channel.respBytes, message.respBytes]), "PUBLISH")
    }

    /// `HSET key field value...`: the number of fields that were new.
    @discardableResult
    public func hset(_ key: some RESPArgument, _ fields: [(String, Bytes)]) async throws -> Int {
        var command: [Bytes] = ["HSET", key.respBytes]
        for (field, value) in fields { command += [Bytes(field), value] }
        return try integer(await send(command), "HSET")
    }

    /// `HDEL key field...`: the number of fields removed.
    @discardableResult
    public func hdel(_ key: some RESPArgument, _ fields: [String]) async throws -> Int {
        try integer(await send(["HDEL", key.respBytes] + fields.map { Bytes($0) }), "HDEL")
    }

    /// `HGETALL key`: every field and value (empty for a missing key).
    public func hgetall(_ key: some RESPArgument) async throws -> [String: Bytes] {
        let reply = try await send(["HGETALL", key.respBytes])
        guard let elements = reply.array, elements.count % 2 == 0 else { throw unexpected(reply, "HGETALL") }
        var fields: [String: Bytes] = [:]
        for index in stride(from: 0, to: elements.count, by: 2) {
            guard let field = elements[index].bytes, let value = elements[index + 1].bytes else { throw unexpected(reply, "HGETALL") }
            fields[field.string] = value
        }
        return fields
    }

    /// `EVAL script numkeys key... arg...`: the script's reply, as it came (a Lua error raised
    /// by the script throws ``RedisError/server(_:)``).
    @discardableResult
    public func eval(_ script: String, keys: [String] = [], arguments: [Bytes] = []) async throws -> RESPValue {
        try await send(["EVAL", Bytes(script), Bytes(String(keys.count))] + keys.map { Bytes($0) } + arguments)
    }

    /// `PING`: round trip to the server; returns its answer (`PONG`).
    @discardableResult
    public func ping() async throws -> String {
        let reply = try await send(["PING"])
        guard let text = reply.string else { throw unexpected(reply, "PING") }
        return text
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return max(1, seconds * 1000 + attoseconds / 1_000_000_000_000_000)
    }

    func integer(_ reply: RESPValue, _ command: String) throws -> Int {
        guard case .integer(let value) = reply else { throw unexpected(reply, command) }
        return Int(value)
    }

    func bulkOrNil(_ reply: RESPValue, _ command: String) throws -> Bytes? {
        switch reply {
        case .bulkString(let bytes): return bytes
        default: throw unexpected(reply, command)
        }
    }

    func unexpected(_ reply: RESPValue, _ command: String) -> RedisError {
        .protocolViolation("redis \(configuration.endpoint): unexpected reply to \(command): \(reply)")
    }
}
