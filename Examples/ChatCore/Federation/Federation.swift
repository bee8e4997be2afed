import Glibc
import Logging
import UVLoop
import UVLoopRedis

/// One chat room across many processes: relays this process's events to the others through a
/// Redis stream, and theirs to its participants. See `docs/REDIS_FEDERATION.md`.
///
/// ```swift
/// let federation = Federation(settings: FederationSettings(redisURL: "redis://127.0.0.1:6379"), room: room, log: log, on: loop)
/// federation.start()                  // federates in the background, Redis up or not
/// ...
/// await federation.finish(within: .seconds(3))
/// ```
///
/// - Local events (``Room/relay``) are delivered locally at once by the room, then queued in an
///   outbox that one writer task appends to the stream (`XADD MAXLEN ~`, in batches, in order,
///   by a script that also claims and releases names). While Redis is unreachable the outbox
///   keeps them (up to ``FederationSettings/outboxLimit``) and flushes them when it is back.
/// - One reader task reads the stream from the last ID it saw (`XREAD BLOCK`), skips this
///   process's own entries, and delivers the others' with one broadcast each. Per-node
///   sequence numbers drop an entry appended twice (a batch retried after a lost reply).
/// - A heartbeat task refreshes this node's key and names and sweeps nodes whose key expired.
///
/// Used on its loop only.
public final class Federation {
    /// The settings it runs with.
    public let settings: FederationSettings
    let room: Room
    let loop: Loop
    let log: Logger
    /// The client, once the first connection succeeded; it reconnects by itself after that.
    private(set) var redis: RedisClient?
    private let connected: Event
    /// Events not appended yet, oldest first; `sending` of them are in the batch being sent.
    private var outbox: [OutboundEvent] = []
    private let outboxReady: Event
    /// Starts from the wall clock in microseconds, so a node restarted under the same name
    /// (`--node`) numbers its events past those of its previous run.
    private var nextSequence = Federation.microsecondsSinceEpoch()
    /// The sequence number of this node's last appended event while the writer knows it (after
    /// an append it saw succeed); `nil` after any failure, so the script reads it from Redis.
    private var lastAppended: Int?
    private var droppedEvents = 0
    /// The last ID read from the stream.
    private(set) var lastID: String?
    /// The highest sequence number delivered per node.
    private var lastSequence: [String: Int] = [:]
    /// The Redis server's `run_id` as the reader last saw it: another one means Redis restarted
    /// and lost what it held (without persistence).
    private var redisRunID: String?
    /// Set when a read failed: before reading on, check whether Redis restarted meanwhile.
    private var mustCheckRestart = false
    /// Nodes whose entries were found missing in the batch being delivered.
    private var gapNodes: [String] = []
    /// When the participants were last told that history may be missing: a burst of gaps (a
    /// short stream read while another process still appends) is told once, and logged each time.
    private var lastMissingHistoryNotice: ContinuousClock.Instant?
    /// The shortest time between two "may be missing" notices to the participants.
    static let missingHistoryNoticeInterval = Duration.seconds(10)
    /// Remote lines read but not delivered yet: consecutive lines go out as one broadcast.
    private var pendingLines: [Bytes] = []
    /// The node of each remote name, by ``Nickname/key(_:)``.
    private var remoteNodes: [String: String] = [:]
    /// Remote names missing from the last presence hash read: removed if missing twice (their
    /// departure is normally read from the stream first, and announced).
    private var missingOnce: Set<String> = []
    private var tasks: [SpawnedTask] = []
    /// The scripts, run by their hash (`EVALSHA`): Redis neither receives nor hashes their
    /// text per batch (SHA1 of the append script was 12 of Redis's 74 instructions per delivery).
    private let appendScript = RedisScript(FederationScripts.append)
    private let heartbeatScript = RedisScript(FederationScripts.heartbeat)
    private var isFinishing = false

    private var streamKey: String { "\(prefix)events" }
    private var presenceKey: String { "\(prefix)presence" }
    private var nodeKey: String { "\(prefix)node:\(settings.node)" }
    /// `chat:{room}:`: every key of the room shares the hash tag.
    private var prefix: String { "chat:{\(settings.room)}:" }

    /// Creates the federation of `room`; nothing happens until ``start()``.
    public init(settings: FederationSettings, room: Room, log: Logger, on loop: Loop) {
        self.settings = settings
        self.room = room
        self.log = log
        self.loop = loop
        connected = Event(on: loop)
        outboxReady = Event(on: loop)
    }

    /// Hooks into the room and starts connecting, reading, writing and heartbeating, in the
    /// background: the room is served whether Redis is up or not.
    public func start() {
        room.relay = { [unowned self] event in self.enqueue(event) }
        tasks.append(loop.spawn { await self.connect() })
        tasks.append(loop.spawn { await self.writeEvents() })
        tasks.append(loop.spawn { await self.readEvents() })
        tasks.append(loop.spawn { await self.heartbeat() })
    }

    /// Appends what is left in the outbox (the participants' departures at shutdown) within
    /// `timeout`, removes this node's heartbeat, then stops.
    public func finish(within timeout: Duration) async {
        isFinishing = true
        if let redis, redis.isConnected {
            _ = try? await loop.withTimeout(timeout) {
                while !self.outbox.isEmpty { try await self.loop.sleep(for: .milliseconds(10)) }
                try await redis.del([self.nodeKey])
            }
        }
        for task in tasks { task.cancel() }
        redis?.close()
        room.relay = nil
    }

    // MARK: Connecting

    /// Connects, retrying with backoff while Redis is unreachable (logged once).
    private func connect() async {
        var failures = 0
        while !Task.isCancelled {
            do {
                let client = try await RedisClient.connect(url: settings.redisURL, logger: log, on: loop)
                // Where reading starts, fixed before "federating" is said: an event appended
                // after that line (another process's rename) is read, not skipped.
                if lastID == nil {
                    do {
                        // Both or neither: a retry must not find one without the other.
                        let newest = try await newestID(client)
                        redisRunID = try await runID(client)
                        lastID = newest
                    } catch {
                        // The next attempt makes a new client: this one must not stay open.
                        client.close()
                        throw error
                    }
                }
                redis = client
                log.notice(
                    "federating room \(settings.room) through redis \(client.configuration.endpoint) as node \(settings.node)")
                connected.set()
                return
            } catch let error as RedisError {
                if case .invalidURL = error {
                    log.error("not federating: \(error)")
                    return
                }
                if failures == 0 {
                    log.warning("\(error); serving this process's participants alone and retrying every few seconds")
                }
                failures += 1
                let delay = RedisReconnectPolicy().delay(afterFailures: failures)
                guard (try? await loop.sleep(for: delay)) != nil else { return }
            } catch {
                return
            }
        }
    }

    // MARK: Writing

    /// Queues a local event for the other processes.
    private func enqueue(_ event: RoomEvent) {
        guard !room.isPlain || isLine(event) else { return }
        if outbox.count >= settings.outboxLimit {
            outbox.removeFirst()
            droppedEvents += 1
            if droppedEvents == 1 {
                log.warning("federation outbox full (\(settings.outboxLimit) events): dropping the oldest until redis is back")
            }
        }
        outbox.append(OutboundEvent(sequence: nextSequence, event: event))
        nextSequence += 1
        outboxReady.set()
    }

    private func isLine(_ event: RoomEvent) -> Bool {
        if case .line = event { return true }
        return false
    }

    /// Appends the outbox to the stream in batches, in order, until cancelled. A batch that
    /// fails is sent again (after the client reconnects); one appended twice is dropped by the
    /// readers by its sequence numbers.
    private func writeEvents() async {
        guard (try? await connected.wait()) != nil, let redis else { return }
        // The node's last appended number, read once, lets the first batch of lines skip the
        // script too: without it a process's first line waited for `SCRIPT LOAD` and `EVALSHA`,
        // two round trips, each behind this process's own fan-out (§12 of docs/DESIGN.md).
        // `0` when there is none, as the script's empty `q`: it is below every number a reader
        // has seen, so it tells of no gap.
        if let reply = try? await redis.send(["GET", Bytes("\(prefix)last:\(settings.node)")]) {
            lastAppended = reply.string.flatMap { Int($0) } ?? 0
        }
        var failures = 0
        while !Task.isCancelled {
            if outbox.isEmpty {
                outboxReady.clear()
                guard (try? await outboxReady.wait()) != nil else { return }
                continue
            }
            let batch = Array(outbox.prefix(256))
            do {
                var refused: Set<Int> = []
                if let previous = lastAppended, let entries = lineEntries(batch) {
                    try await appendLines(entries, after: previous, redis)
                } else {
                    lastAppended = nil
                    let reply = try await appendScript.run(
                        on: redis, keys: [streamKey, presenceKey, nodeKey], arguments: arguments(for: batch))
                    refused = Set((reply.array ?? []).compactMap { $0.string.flatMap { Int($0) } })
                }
                lastAppended = batch.last { !refused.contains($0.sequence) }?.sequence ?? lastAppended
                // The batch is the outbox's head unless the outbox overflowed meanwhile.
                let sent = Set(batch.map(\.sequence))
                outbox.removeAll { sent.contains($0.sequence) }
                if droppedEvents > 0 {
                    log.warning("federation outbox: \(droppedEvents) event(s) were dropped while redis was unreachable")
                    droppedEvents = 0
                }
                failures = 0
                for event in batch where refused.contains(event.sequence) { lostClaim(event.event) }
            } catch is CancellationError {
                lastAppended = nil
                return
            } catch let error as RedisError where error.code != nil {
                lastAppended = nil
                log.error("federation: dropping \(batch.count) event(s) redis refused: \(error)")
                outbox.removeFirst(min(batch.count, outbox.count))
            } catch {
                lastAppended = nil
                // Unreachable: the client logs the outage and reconnects; try again shortly.
                failures += 1
                guard (try? await loop.sleep(for: .milliseconds(min(100 * failures, 1000)))) != nil else { return }
            }
        }
    }

    /// The most lines of one process put in one stream entry.
    static let linesPerEntry = 64

    /// A batch of lines only, grouped as ``arguments(for:)`` groups them into entries: each
    /// entry's first and last sequence numbers and its text; `nil` if the batch holds another event.
    private func lineEntries(_ batch: [OutboundEvent]) -> [(first: Int, last: Int, text: Bytes)]? {
        var entries: [(first: Int, last: Int, text: Bytes)] = []
        var index = batch.startIndex
        while index < batch.endIndex {
            guard case .line(let line) = batch[index].event else { return nil }
            let first = batch[index].sequence
            var lines = [line]
            var last = first
            index += 1
            while index < batch.endIndex, lines.count < Self.linesPerEntry, lines[lines.count - 1].last == UInt8(ascii: "\n"),
                case .line(let next) = batch[index].event
            {
                lines.append(next)
                last = batch[index].sequence
                index += 1
            }
            entries.append((first, last, Self.joined(lines)))
        }
        return entries
    }

    /// `lines` as one `Bytes`, copied only if there are several.
    private static func joined(_ lines: [Bytes]) -> Bytes {
        guard lines.count > 1 else { return lines[0] }
        var joined: [UInt8] = []
        joined.reserveCapacity(lines.reduce(0) { $0 + $1.count })
        for piece in lines { piece.withUnsafeBytes { joined.append(contentsOf: $0) } }
        return Bytes(joined)
    }

    /// Appends line entries without the script, in one round trip: what the append script does
    /// for a batch of lines only (they claim no names), once the writer knows `previous`, the
    /// node's last appended sequence number (the script's `last:{node}`). Its pipeline of
    /// `SET node`, one `XADD` per entry and `SET last` costs Redis about a quarter of the
    /// script's run (no Lua call, arguments or command lookups).
    private func appendLines(_ entries: [(first: Int, last: Int, text: Bytes)], after previous: Int, _ redis: RedisClient) async throws {
        var commands: [[Bytes]] = [["SET", Bytes(nodeKey), "1", "PX", Bytes(String(Self.milliseconds(settings.nodeTTL)))]]
        commands.reserveCapacity(entries.count + 2)
        let stream = Bytes(streamKey)
        let node = Bytes(settings.node)
        let maxLength = Bytes(String(settings.streamLength))
        var previous = previous
        for entry in entries {
            commands.append([
                "XADD", stream, "MAXLEN", "~", maxLength, "*", "n", node, "s", Bytes(String(entry.last)), "q", Bytes(String(previous)),
                "k", "l", "a", "", "b", Bytes(String(entry.first)), "t", entry.text,
            ])
            previous = entry.last
        }
        commands.append(["SET", Bytes("\(prefix)last:\(settings.node)"), Bytes(String(previous)), "PX", "3600000"])
        try await redis.send(pipeline: commands)
    }

    private func arguments(for batch: [OutboundEvent]) -> [Bytes] {
        var arguments: [Bytes] = [
            Bytes(settings.node), Bytes(String(settings.streamLength)), Bytes(String(Self.milliseconds(settings.nameTTL))),
            Bytes(String(Self.milliseconds(settings.nodeTTL))), Bytes(prefix),
        ]
        arguments.reserveCapacity(arguments.count + 7 * batch.count)
        var index = batch.startIndex
        while index < batch.endIndex {
            let outbound = batch[index]
            index += 1
            if case .line(let line) = outbound.event {
                // Consecutive lines go in one entry: `s` its last line's number, `b` its first's.
                var lines = [line]
                var last = outbound.sequence
                while index < batch.endIndex, lines.count < Self.linesPerEntry, lines[lines.count - 1].last == UInt8(ascii: "\n"),
                    case .line(let next) = batch[index].event
                {
                    lines.append(next)
                    last = batch[index].sequence
                    index += 1
                }
                arguments += [Bytes(String(last)), "l", "", "", Bytes(String(outbound.sequence)), "", Self.joined(lines)]
                continue
            }
            let (kind, name, new, text): (String, String, String, Bytes) =
                switch outbound.event {
                case .line(let line): ("l", "", "", line)
                case .joined(let name): ("j", name, "", ChatText.joined(name))
                case .left(let name, let line): ("p", name, "", line)
                case .renamed(let old, let new): ("r", old, new, ChatText.renamed(from: old, to: new))
                }
            arguments += [
                Bytes(String(outbound.sequence)), Bytes(kind), Bytes(name), Bytes(Nickname.key(name)), Bytes(new),
                Bytes(Nickname.key(new)), text,
            ]
        }
        return arguments
    }

    /// Another node won the name a join or rename claimed: the participant gets another.
    private func lostClaim(_ event: RoomEvent) {
        switch event {
        case .joined(let name):
            // The others never heard of `name`: they are told of a join under the new one.
            guard let participant = room.participant(named: name) else { return }
            let relay = room.relay
            room.relay = nil
            defer { room.relay = relay }
            var candidate = "\(name)-\(Int.random(in: 1000...9999))"
            while (try? room.rename(participant, to: candidate)) == nil, participant.isPresent {
                candidate = "\(name)-\(Int.random(in: 1000...9999))"
            }
            if participant.isPresent { enqueue(.joined(candidate)) }
        case .renamed(let old, let new):
            guard let participant = room.participant(named: new) else { return }
            room.restoreName(participant, to: old)
        default:
            break
        }
    }

    // MARK: Reading

    /// Reads the stream from the last ID seen and delivers the other nodes' events, until cancelled.
    private func readEvents() async {
        guard (try? await connected.wait()) != nil, let redis else { return }
        while !Task.isCancelled {
            do {
                if lastID == nil {
                    lastID = try await newestID(redis)
                    redisRunID = try await runID(redis)
                }
                if mustCheckRestart {
                    let now = try await runID(redis)
                    if let before = redisRunID, let now, now != before {
                        reportMissingHistory("the federation's Redis restarted (its run_id changed): what it held is gone")
                    }
                    redisRunID = now ?? redisRunID
                    mustCheckRestart = false
                }
                let streams = try await redis.xread(after: [(streamKey, lastID ?? "0-0")], count: 512, block: .seconds(5))
                for (_, entries) in streams {
                    for entry in entries { deliver(entry) }
                    if let last = entries.last { lastID = last.id }
                }
                deliverPendingLines()
                if !gapNodes.isEmpty {
                    reportMissingHistory("events of \(gapNodes.joined(separator: ", ")) left the stream before this process read them")
                    gapNodes.removeAll()
                }
            } catch is CancellationError {
                return
            } catch {
                // Unreachable or timed out: the client reconnects; read on from `lastID`.
                mustCheckRestart = true
                guard (try? await loop.sleep(for: .milliseconds(200))) != nil else { return }
            }
        }
    }

    /// The ID of the stream's newest entry (`0-0` if empty): reading starts after it.
    private func newestID(_ redis: RedisClient) async throws -> String {
        let reply = try await redis.send(["XREVRANGE", Bytes(streamKey), "+", "-", "COUNT", "1"])
        return reply.array?.first?.array?.first?.string ?? "0-0"
    }

    /// The Redis server's `run_id` (`INFO server`), if it says.
    private func runID(_ redis: RedisClient) async throws -> String? {
        let info = try await redis.send(["INFO", "server"]).string ?? ""
        for line in info.split(whereSeparator: \.isNewline) where line.hasPrefix("run_id:") {
            return String(line.dropFirst("run_id:".count))
        }
        return nil
    }

    /// Logs that remote history was lost and, in chat mode, tells the local participants (at most
    /// once per ``missingHistoryNoticeInterval``).
    private func reportMissingHistory(_ reason: String) {
        log.warning("federation: \(reason); lines from the other processes may be missing")
        let now = ContinuousClock.now
        if let last = lastMissingHistoryNotice, now - last < Self.missingHistoryNoticeInterval { return }
        lastMissingHistoryNotice = now
        if !room.isPlain { room.deliverRemote(ChatText.historyMayBeMissing) }
    }

    /// Delivers one entry of another node to the local participants.
    func deliver(_ entry: RedisStreamEntry) {
        guard let node = entry["n"]?.string, node != settings.node, let kind = entry["k"]?.string,
            var text = entry["t"]
        else { return }
        if let sequence = entry["s"].flatMap({ Int($0.string) }), sequence > 0 {
            let last = lastSequence[node]
            if let last, sequence <= last { return }
            // A line entry retried with more lines than its first append: skip those delivered.
            if let last, kind == "l", let first = entry["b"].flatMap({ Int($0.string) }), first <= last {
                let lines = Room.lines(in: text)
                guard lines.count == sequence - first + 1 else { return }
                let fresh = lines[(last - first + 1)...]
                text = fresh.count == 1 ? fresh[fresh.startIndex] : Bytes(fresh.flatMap { (line: Bytes) in line.array })
            }
            // `q` is the node's previous entry: above the last read here, entries were lost.
            if let last, let previous = entry["q"].flatMap({ Int($0.string) }), previous > last {
                if !gapNodes.contains(node) { gapNodes.append(node) }
            }
            lastSequence[node] = sequence
        }
        let name = entry["a"]?.string ?? ""
        if kind == "l" {
            pendingLines.append(text)
            return
        }
        deliverPendingLines()
        switch kind {
        case "j":
            let isNew = remoteNodes[Nickname.key(name)] != node
            addRemote(name, node: node)
            if isNew, !room.isPlain, room.announcesEachArrival { room.deliverRemote(text) }
        case "p":
            guard remoteNodes[Nickname.key(name)] == node else { return }
            removeRemote(name)
            if room.announcesEachArrival { room.deliverRemote(text) }
        case "r":
            removeRemote(name)
            addRemote(entry["b"]?.string ?? "", node: node)
            room.deliverRemote(text)
        default:
            break
        }
    }

    /// Delivers the remote lines read so far, in order, with one broadcast.
    func deliverPendingLines() {
        guard !pendingLines.isEmpty else { return }
        room.deliverRemote(pendingLines)
        pendingLines.removeAll(keepingCapacity: true)
    }

    private func addRemote(_ name: String, node: String) {
        guard !name.isEmpty else { return }
        remoteNodes[Nickname.key(name)] = node
        room.remoteNames[Nickname.key(name)] = name
    }

    private func removeRemote(_ name: String) {
        remoteNodes[Nickname.key(name)] = nil
        room.remoteNames[Nickname.key(name)] = nil
    }

    // MARK: Heartbeat

    /// Every ``FederationSettings/heartbeatPeriod``: refreshes this node's heartbeat and names,
    /// sweeps dead nodes, and takes the presence hash as the truth about remote names.
    private func heartbeat() async {
        guard (try? await connected.wait()) != nil, let redis else { return }
        while !Task.isCancelled {
            if !room.isPlain, !isFinishing {
                var arguments: [Bytes] = [
                    Bytes(settings.node), Bytes(String(Self.milliseconds(settings.nodeTTL))),
                    Bytes(String(Self.milliseconds(settings.nameTTL))), Bytes(prefix), Bytes(String(settings.streamLength)),
                ]
                // Names whose join is still in the outbox are claimed by its append, not here.
                let pending = Set(
                    outbox.compactMap { outbound -> String? in
                        if case .joined(let name) = outbound.event { return Nickname.key(name) }
                        if case .renamed(_, let name) = outbound.event { return Nickname.key(name) }
                        return nil
                    })
                for participant in room.participants where !pending.contains(Nickname.key(participant.name)) {
                    arguments += [Bytes(participant.name), Bytes(Nickname.key(participant.name))]
                }
                if let reply = try? await heartbeatScript.run(
                    on: redis, keys: [presenceKey, nodeKey, streamKey], arguments: arguments),
                    let fields = reply.array
                {
                    refreshRemoteNames(fields)
                }
            }
            guard (try? await loop.sleep(for: settings.heartbeatPeriod)) != nil else { return }
        }
    }

    /// Takes the presence hash (`HGETALL`'s flat list) as the remote names, keeping those
    /// whose join is not in it yet but was read from the stream.
    private func refreshRemoteNames(_ fields: [RESPValue]) {
        var present: Set<String> = []
        var index = 0
        while index + 1 < fields.count {
            if let name = fields[index].string, let node = fields[index + 1].string, node != settings.node {
                present.insert(Nickname.key(name))
                if remoteNodes[Nickname.key(name)] != node { addRemote(name, node: node) }
            }
            index += 2
        }
        var missing: Set<String> = []
        for key in remoteNodes.keys where !present.contains(key) {
            if missingOnce.contains(key) {
                remoteNodes[key] = nil
                room.remoteNames[key] = nil
            } else {
                missing.insert(key)
            }
        }
        missingOnce = missing
    }

    static func microsecondsSinceEpoch() -> Int {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return now.tv_sec * 1_000_000 + now.tv_nsec / 1000
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return max(1, seconds * 1000 + attoseconds / 1_000_000_000_000_000)
    }
}

/// An event in the outbox, with its sequence number among this node's.
struct OutboundEvent {
    let sequence: Int
    let event: RoomEvent
}
