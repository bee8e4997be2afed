/// The Lua scripts a federation runs in Redis. Each runs atomically, so two processes never
/// interleave inside one: a name claim and the event announcing it are one step, and only one
/// sweeper announces a dead process's participants. Every key of a room shares the hash tag
/// `{room}`, so in a Redis Cluster they live on one shard.
enum FederationScripts {
    /// Appends a batch of events to the room's stream, in order, claiming and releasing names
    /// as they go. `KEYS`: stream, presence hash, this node's heartbeat key. `ARGV`: node,
    /// stream length, name TTL (ms), node TTL (ms), key prefix, then 7 per event: sequence
    /// number, kind (`l` line, `j` join, `p` part, `r` rename), name, its key, new name, its
    /// key, text. Returns the sequence numbers of the joins and renames refused because another
    /// node holds the name (their events are not appended). Each entry also carries `q`, the
    /// sequence number of this node's previous entry (kept in `{prefix}last:{node}`; empty after
    /// a Redis restart or an hour idle), so a reader that sees `q` above the last it read knows it missed some.
    static let append = """
        local node, maxlen, namettl, nodettl, prefix = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
        redis.call('SET', KEYS[3], '1', 'PX', nodettl)
        local lastkey = prefix .. 'last:' .. node
        local previous = redis.call('GET', lastkey) or ''
        local refused = {}
        local function claim(name, key)
          local holder = redis.call('GET', prefix .. 'name:' .. key)
          if holder and holder ~= node then return false end
          redis.call('SET', prefix .. 'name:' .. key, node, 'PX', namettl)
          redis.call('HSET', KEYS[2], name, node)
          return true
        end
        local function release(name, key)
          if redis.call('GET', prefix .. 'name:' .. key) == node then redis.call('DEL', prefix .. 'name:' .. key) end
          if redis.call('HGET', KEYS[2], name) == node then redis.call('HDEL', KEYS[2], name) end
        end
        for i = 6, #ARGV - 6, 7 do
          local seq, kind, name, key, new, newkey, text = ARGV[i], ARGV[i+1], ARGV[i+2], ARGV[i+3], ARGV[i+4], ARGV[i+5], ARGV[i+6]
          local ok = true
          if kind == 'j' then
            ok = claim(name, key)
          elseif kind == 'r' then
            ok = claim(new, newkey)
            if ok then release(name, key) end
          elseif kind == 'p' then
            release(name, key)
          end
          if ok then
            redis.call('XADD', KEYS[1], 'MAXLEN', '~', maxlen, '*', 'n', node, 's', seq, 'q', previous, 'k', kind, 'a', name,
              'b', new, 't', text)
            previous = seq
          else
            table.insert(refused, seq)
          end
        end
        if previous ~= '' then redis.call('SET', lastkey, previous, 'PX', 3600000) end
        return refused
        """

    /// The heartbeat and sweep: refreshes this node's heartbeat and its names (re-claiming any
    /// lost, as after a Redis restart without persistence), then removes from the presence hash
    /// the participants of every node whose heartbeat is gone and appends a `p` event for each.
    /// `KEYS`: presence hash, this node's heartbeat key, stream. `ARGV`: node, node TTL (ms),
    /// name TTL (ms), key prefix, stream length, then name and key pairs of this node's
    /// participants. Returns the presence hash after the sweep, as `HGETALL` does.
    static let heartbeat = """
        local node, nodettl, namettl, prefix, maxlen = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
        redis.call('SET', KEYS[2], '1', 'PX', nodettl)
        for i = 6, #ARGV - 1, 2 do
          local key = prefix .. 'name:' .. ARGV[i+1]
          local holder = redis.call('GET', key)
          if not holder or holder == node then
            redis.call('SET', key, node, 'PX', namettl)
            redis.call('HSET', KEYS[1], ARGV[i], node)
          end
        end
        local all = redis.call('HGETALL', KEYS[1])
        for i = 1, #all, 2 do
          local name, owner = all[i], all[i+1]
          if owner ~= node and redis.call('EXISTS', prefix .. 'node:' .. owner) == 0 then
            redis.call('HDEL', KEYS[1], name)
            redis.call('XADD', KEYS[3], 'MAXLEN', '~', maxlen, '*', 'n', owner, 's', '0', 'k', 'p', 'a', name, 'b', '',
              't', name .. ' left (connection lost)\\n')
          end
        end
        return redis.call('HGETALL', KEYS[1])
        """
}
