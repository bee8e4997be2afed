import UVLoop

/// A Lua script run by its SHA1 hash (`EVALSHA`): loaded into the server's script cache
/// (`SCRIPT LOAD`) on first use, and again when the server answers `NOSCRIPT` (it restarted or
/// flushed its cache). The server then neither receives nor hashes the script's text on every
/// call, as it does for `EVAL`. A server that refuses `SCRIPT LOAD` gets `EVAL` instead.
///
/// ```swift
/// let claim = RedisScript("return redis.call('SET', KEYS[1], ARGV[1], 'NX')")
/// let reply = try await claim.run(on: redis, keys: ["name:ada"], arguments: ["node-1"])
/// ```
///
/// Holds the hash it learnt, so use it from one loop, like the client.
public final class RedisScript {
    /// The script's Lua source.
    public let source: String
    /// The hash `SCRIPT LOAD` returned, once known.
    private var hash: Bytes?
    /// Set when the server refused `SCRIPT LOAD`: the script is sent whole with `EVAL`.
    private var usesEval = false

    /// A script with the given Lua source; nothing is sent until ``run(on:keys:arguments:)``.
    public init(_ source: String) {
        self.source = source
    }

    /// Runs the script with `keys` and `arguments`; returns its reply as it came (a Lua error
    /// raised by the script throws ``RedisError/server(_:)``).
    @discardableResult
    public func run(on redis: RedisClient, keys: [String] = [], arguments: [Bytes] = []) async throws -> RESPValue {
        if usesEval { return try await redis.eval(source, keys: keys, arguments: arguments) }
        var command: [Bytes] = ["EVALSHA", hash ?? Bytes(), Bytes(String(keys.count))]
        command.reserveCapacity(3 + keys.count + arguments.count)
        for key in keys { command.append(Bytes(key)) }
        command += arguments
        if hash != nil {
            do {
                return try await redis.send(command)
            } catch let error as RedisError where error.code == "NOSCRIPT" {
                hash = nil
            }
        }
        let loaded: RESPValue
        do {
            loaded = try await redis.send(["SCRIPT", "LOAD", Bytes(source)])
        } catch let error as RedisError where error.code != nil && error.code != "NOSCRIPT" {
            usesEval = true
            return try await redis.eval(source, keys: keys, arguments: arguments)
        }
        guard let learnt = loaded.bytes else { throw redis.unexpected(loaded, "SCRIPT LOAD") }
        hash = learnt
        command[1] = learnt
        return try await redis.send(command)
    }
}
