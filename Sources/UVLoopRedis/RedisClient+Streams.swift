import UVLoop

/// Typed helpers for Redis streams: XADD, XRANGE, and XREAD (blocking on a connection of its own).
extension RedisClient {
    /// `XADD key [MAXLEN ~ n] id field value...`: appends an entry; returns its ID.
    ///
    /// - Parameters:
    ///   - maxLength: trims the stream to about this many entries (`MAXLEN ~`, which trims whole
    ///     macro nodes only and so is cheap); `nil` never trims.
    ///   - id: the entry's ID; `*` (the default) lets the server choose.
    ///
    /// ```swift
    /// let id = try await redis.xadd("chat:{lobby}:events", [("text", Bytes("hi"))], maxLength: 10_000)
    /// ```
    @discardableResult
    public func xadd(
        _ key: some RESPArgument, _ fields: [(String, Bytes)], maxLength: Int? = nil, id: String = "*"
    ) async throws -> String {
        var command: [Bytes] = ["XADD", key.respBytes]
        if let maxLength { command += ["MAXLEN", "~", Bytes(String(maxLength))] }
        command.append(Bytes(id))
        for (name, value) in fields { command += [Bytes(name), value] }
        let reply = try await send(command)
        guard let entryID = reply.string else { throw unexpected(reply, "XADD") }
        return entryID
    }

    /// `XRANGE key start end [COUNT n]`: the entries with IDs from `start` to `end` inclusive
    /// (`-` and `+` are the ends of the stream; `(id` excludes `id`).
    public func xrange(_ key: some RESPArgument, from start: String = "-", to end: String = "+", count: Int? = nil) async throws
        -> [RedisStreamEntry]
    {
        var command: [Bytes] = ["XRANGE", key.respBytes, Bytes(start), Bytes(end)]
        if let count { command += ["COUNT", Bytes(String(count))] }
        let reply = try await send(command)
        guard let elements = reply.array else { throw unexpected(reply, "XRANGE") }
        return try elements.map { element in
            guard let entry = RedisStreamEntry(element) else { throw unexpected(reply, "XRANGE") }
            return entry
        }
    }

    /// `XREAD [COUNT n] [BLOCK ms] STREAMS key... id...`: the entries after each given ID, per
    /// stream; empty when `block` passes with nothing new.
    ///
    /// With `block`, the command runs on a connection of its own (opened on first use), so that
    /// it does not hold up this client's other commands; `.zero` blocks until an entry comes.
    /// Its time limit is `block` plus the command timeout. If the wait is cancelled or times
    /// out, that connection is closed (the server would still be blocked on it) and the next
    /// blocking read opens another.
    ///
    /// ```swift
    /// var last = "$"
    /// while true {
    ///     for (_, entries) in try await redis.xread(after: [("chat:{lobby}:events", last)], block: .seconds(5)) {
    ///         for entry in entries { deliver(entry); last = entry.id }
    ///     }
    /// }
    /// ```
    public func xread(after positions: [(key: String, id: String)], count: Int? = nil, block: Duration? = nil) async throws
        -> [(key: String, entries: [RedisStreamEntry])]
    {
        var command: [Bytes] = ["XREAD"]
        if let count { command += ["COUNT", Bytes(String(count))] }
        if let block { command += ["BLOCK", Bytes(String(block == .zero ? 0 : Self.milliseconds(block)))] }
        command.append("STREAMS")
        command += positions.map { Bytes($0.key) }
        command += positions.map { Bytes($0.id) }

        let reply: RESPValue
        if let block {
            let client = try await blocking()
            let timeout = block == .zero ? nil : options.commandTimeout.map { $0 + block }
            do {
                reply = try await client.execute(command, timeout: timeout)
            } catch let error as RedisError where error.isTimeout {
                client.close()
                throw error
            } catch is CancellationError {
                client.close()
                throw CancellationError()
            }
        } else {
            reply = try await send(command)
        }
        if reply.isNull { return [] }
        guard let streams = reply.array else { throw unexpected(reply, "XREAD") }
        return try streams.map { stream in
            guard let pair = stream.array, pair.count == 2, let key = pair[0].string, let entries = pair[1].array else {
                throw unexpected(reply, "XREAD")
            }
            return (
                key,
                try entries.map { element in
                    guard let entry = RedisStreamEntry(element) else { throw unexpected(reply, "XREAD") }
                    return entry
                }
            )
        }
    }
}

extension RedisError {
    /// True for ``timeout(_:)``.
    public var isTimeout: Bool {
        if case .timeout = self { return true }
        return false
    }
}
