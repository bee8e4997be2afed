import Logging
import UVLoop
import UVLoopWebSocket

/// Why ``Room/rename(_:to:)`` refused a name; nothing changed.
public enum RenameRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    /// The name breaks the rules of ``Nickname``.
    case invalid(Nickname.Problem)
    /// Someone else has it (names are compared ignoring case).
    case taken
    /// It is already the participant's name.
    case unchanged

    public var description: String {
        switch self {
        case .invalid(.empty): "no name given"
        case .invalid(.tooLong): "name longer than \(Nickname.maxLength) characters"
        case .invalid(.containsSpace): "name contains white space"
        case .invalid(.unprintable): "name contains unprintable characters"
        case .taken: "name taken"
        case .unchanged: "already their name"
        }
    }
}

/// The participants of one chat room: who is in it, their names, and broadcasting to them.
///
/// Every write goes through a bounded outbound queue (``maxQueuedBytes``): a participant who
/// stops reading is disconnected as soon as a line would take its queue over the bound, so it
/// never holds memory without limit nor slows anyone else. In chat mode the room welcomes
/// newcomers and announces joins, renames and departures; in plain mode it prints the seed's
/// console lines instead. Used on its loop only.
///
/// A connection joins either as a ``Participant`` (``admit(_:)``: a name, a flood limiter) or,
/// in plain mode, as a bare stream (``join(_:)``), which keeps no object per connection beyond
/// the stream itself: an idle plain connection costs its task and its stream, nothing more.
///
/// Joining and leaving cost O(1) whatever the room's size (a ``Roster``), and so does what
/// they say to the room: once it has more than ``largeRoomThreshold`` participants, joins and
/// departures are no longer announced one by one but counted, and one summary line per
/// ``summaryInterval`` tells everyone (`1,234 joined and 56 left in the last second (900 here)`;
/// every 10 s in a room of more than ten times the threshold).
///
/// ```swift
/// let room = Room(isPlain: false, maxQueuedBytes: 1 << 20, floodLimit: (5, 10), log: log, console: .standardOutput)
/// let alice = room.admit(stream)                    // welcomed as guest-1; the others are told
/// room.broadcast(ChatText.chat(alice.name, "hi"), from: alice)
/// ```
public final class Room {
    /// True for the seed's protocol: no welcome, names or notices on the wire.
    public let isPlain: Bool
    /// The bound of each participant's outbound queue, in bytes.
    public let maxQueuedBytes: Int
    /// The flood limit given to each newcomer, if any.
    public let floodLimit: (rate: Double, burst: Int)?
    /// Up to this many participants, each join and departure is announced to the others; in a
    /// larger room they are summarised once per ``summaryInterval``.
    public let largeRoomThreshold: Int
    /// How often a large room announces its summary of joins and departures (if any); a room of
    /// more than ten times ``largeRoomThreshold`` waits ten times as long between summaries, so
    /// a storm of joins costs its members a line each every 10 s rather than every second.
    public let summaryInterval: Duration
    /// The period of the summary scheduled, if any.
    private var summaryPeriod: Duration
    let log: Logger
    let console: Console
    /// Every TCP connection present with its participant (`nil` for a bare stream): the
    /// broadcast fast path walks these.
    private var roster = Roster<TCPStream, Participant>()
    /// The browser participants by their WebSocket: a line is framed once for them all and
    /// queued on each socket's stream as a line is on a TCP stream (`WebSocket.broadcast`).
    private var browsers = Roster<WebSocket, Participant>()
    /// Frames the lines broadcast to ``browsers``.
    private let browserFramer = WebSocketLineFramer()
    /// The participants over other streams (TLS), written to a line at a time.
    private var links = Roster<Participant, Void>()
    private var byName: [String: Participant] = [:]
    private var nextGuestNumber = 1
    private var arrivals = 0
    /// Joins and departures not announced yet (in a large room), and whether a summary is due.
    private var unannouncedJoins = 0
    private var unannouncedDepartures = 0
    private var isSummaryScheduled = false
    /// Counts the summaries announced, so a scheduled one finds out it was announced early.
    private var summaryGeneration = 0
    /// True once ``close(farewell:)`` was called: nothing more is relayed.
    public private(set) var isClosing = false
    /// Connections found over their queue bound, disconnected once the current broadcast ends.
    private var overBound: [TCPStream] = []
    private var overBoundLinks: [Participant] = []
    /// Lines relayed, bytes out and departures by cause, for `GET /metrics`.
    public private(set) var metrics = RoomMetrics()
    private var isDisconnectingSlow = false
    /// Told of every local line, join, departure and rename, for other processes to relay
    /// (see `Federation/`); `nil` without federation.
    var relay: ((RoomEvent) -> Void)?
    /// The names of the participants of other processes, by ``Nickname/key(_:)``: never given
    /// here, and listed by `/who`.
    var remoteNames: [String: String] = [:]

    /// Creates an empty room. `largeRoomThreshold` and `summaryInterval`: see the properties;
    /// the default threshold never summarises.
    public init(
        isPlain: Bool, maxQueuedBytes: Int, floodLimit: (rate: Double, burst: Int)?, largeRoomThreshold: Int = .max,
        summaryInterval: Duration = .seconds(1), log: Logger, console: Console
    ) {
        self.isPlain = isPlain
        self.maxQueuedBytes = maxQueuedBytes
        self.floodLimit = floodLimit
        self.largeRoomThreshold = largeRoomThreshold
        self.summaryInterval = summaryInterval
        summaryPeriod = summaryInterval
        self.log = log
        self.console = console
    }

    /// The number of connections present, of every kind.
    public var count: Int { roster.count + browsers.count + links.count }

    /// Every TCP connection present, participants' and bare streams', in no particular order:
    /// the broadcast fast path touches only these.
    public var streams: [TCPStream] { roster.elements }

    /// The participants present over other streams than TCP (TLS, WebSocket).
    public var linkedParticipants: [Participant] { links.elements + browserParticipants }

    /// The browser participants present, in no particular order.
    private var browserParticipants: [Participant] { browsers.allCompanions.compactMap { $0 } }

    /// The participants present of `kind`.
    public func count(of kind: ParticipantKind) -> Int {
        if kind == .tcp { return roster.count }
        return links.elements.reduce(kind == .websocket ? browsers.count : 0) { $0 + ($1.kind == kind ? 1 : 0) }
    }

    /// The participants present (admitted with ``admit(_:)``), in order of arrival. Sorts them:
    /// O(n log n); ``earliestParticipants(_:)`` is cheaper for a few.
    public var participants: [Participant] {
        (roster.allCompanions.compactMap { $0 } + linkedParticipants).sorted { $0.arrival < $1.arrival }
    }

    /// The first `limit` participants present in order of arrival: O(n) for a small `limit`.
    public func earliestParticipants(_ limit: Int) -> [Participant] {
        guard limit > 0 else { return [] }
        // Insertion into a sorted prefix: most participants are later than the `limit`th so far
        // and cost one comparison.
        var earliest: [Participant] = []
        earliest.reserveCapacity(limit + 1)
        for case let participant? in roster.allCompanions + browsers.allCompanions + links.elements.map(Optional.some) {
            if earliest.count == limit, let last = earliest.last, last.arrival < participant.arrival { continue }
            let index = earliest.firstIndex { $0.arrival > participant.arrival } ?? earliest.endIndex
            earliest.insert(participant, at: index)
            if earliest.count > limit { earliest.removeLast() }
        }
        return earliest
    }

    /// The participant called `name` (ignoring case), if present.
    public func participant(named name: String) -> Participant? { byName[Nickname.key(name)] }

    /// True while joins and departures are announced one by one: the room has at most
    /// ``largeRoomThreshold`` participants.
    public var announcesEachArrival: Bool { count <= largeRoomThreshold }

    // MARK: Arrivals and departures

    /// Adds the connection as a participant named `guest-N`: in chat mode welcomes it and tells
    /// the others (or counts it for the next summary, in a large room); in plain mode prints
    /// `Participant joined chat.`. A `TCPStream` joins the broadcast fast path, a browser (a
    /// ``WebSocketLineStream``) the WebSocket one; any other stream (TLS) is written to a line
    /// at a time, under the same bound.
    @discardableResult
    public func admit(_ stream: any ByteStream, kind: ParticipantKind = .tcp) -> Participant {
        var name = "guest-\(nextGuestNumber)"
        nextGuestNumber += 1
        while byName[Nickname.key(name)] != nil || remoteNames[Nickname.key(name)] != nil {
            name = "guest-\(nextGuestNumber)"
            nextGuestNumber += 1
        }
        let limiter = floodLimit.map { RateLimiter(rate: $0.rate, burst: $0.burst) }
        arrivals += 1
        let participant = Participant(stream: stream, kind: kind, name: name, arrival: arrivals, limiter: limiter)
        if let tcp = participant.tcp {
            roster.insert(tcp, participant)
        } else if let browser = stream as? WebSocketLineStream {
            browsers.insert(browser.socket, participant)
        } else {
            links.insert(participant, ())
        }
        // Plain mode has no names to look up (no /nick), so it keeps no index of them.
        if !isPlain { byName[Nickname.key(name)] = participant }
        if isPlain {
            console.say("Participant joined chat.")
        } else {
            send(ChatText.welcome(name), to: participant)
            relay?(.joined(name))
            if announcesEachArrival {
                deliver(ChatText.joined(name), except: participant)
            } else {
                unannouncedJoins += 1
                scheduleSummary()
            }
        }
        log.info("\(participant.logDescription) joined")
        return participant
    }

    /// Adds a bare connection, in plain mode: no name, no participant object; prints
    /// `Participant joined chat.`. See ``leave(_:)`` and `broadcast(_:from:)` with the stream.
    public func join(_ stream: TCPStream) {
        precondition(isPlain, "bare connections join plain rooms only")
        roster.insert(stream, nil)
        console.say("Participant joined chat.")
        log.info("\(Room.describe(stream)) joined")
    }

    /// Takes a bare connection out of the room; false if it was already out. Does not close it
    /// or tell anyone; see ``announceDeparture(of:peer:_:)``.
    @discardableResult
    public func leave(_ stream: TCPStream) -> Bool {
        roster.remove(stream)
    }

    /// Takes `participant` out of the room: no more lines reach it and its name is free.
    /// Returns false if it was already out. Does not close it or tell anyone; see
    /// ``announceDeparture(of:_:)``.
    @discardableResult
    public func dismiss(_ participant: Participant) -> Bool {
        guard participant.isPresent else { return false }
        participant.isPresent = false
        if let tcp = participant.tcp {
            roster.remove(tcp)
        } else if let browser = participant.stream as? WebSocketLineStream {
            browsers.remove(browser.socket)
        } else {
            links.remove(participant)
        }
        if byName[Nickname.key(participant.name)] === participant { byName[Nickname.key(participant.name)] = nil }
        return true
    }

    /// Says that a bare connection left: `Participant left chat.`, and the log. `peer` is its
    /// address, read before it was closed.
    public func announceDeparture(of stream: TCPStream, peer: SocketAddress?, _ departure: Departure) {
        metrics.record(departure)
        console.say("Participant left chat.")
        let who = peer?.description ?? "unknown address"
        switch departure {
        case .tooSlow: log.warning("\(who) disconnected: \(departure.logDescription), \(maxQueuedBytes) bytes")
        default: log.info("\(who) left: \(departure.logDescription)")
        }
    }

    /// A connection in log lines: its peer's address.
    static func describe(_ stream: TCPStream) -> String { stream.peerAddress?.description ?? "unknown address" }

    /// Says that `participant` left: to the others in chat mode (not while closing), as
    /// `Participant left chat.` in plain mode, and in the log.
    public func announceDeparture(of participant: Participant, _ departure: Departure) {
        metrics.record(departure)
        if !isPlain { relay?(.left(participant.name, ChatText.left(participant.name, departure))) }
        if isPlain {
            console.say("Participant left chat.")
        } else if isClosing {
            // Everyone is being told the server is shutting down.
        } else if count < largeRoomThreshold {
            // It was one of at most `largeRoomThreshold`: told one by one.
            deliver(ChatText.left(participant.name, departure), except: participant)
        } else {
            unannouncedDepartures += 1
            scheduleSummary()
        }
        switch departure {
        case .tooSlow:
            log.warning("\(participant.logDescription) disconnected: \(departure.logDescription), \(maxQueuedBytes) bytes")
        case .failed:
            log.info("\(participant.logDescription) left: connection failed: \(departure.logDescription)")
        default:
            log.info("\(participant.logDescription) left: \(departure.logDescription)")
        }
    }

    /// Dismisses `participant`, closes its connection at once and announces why.
    public func disconnect(_ participant: Participant, _ departure: Departure) {
        guard dismiss(participant) else { return }
        participant.stream.close()
        announceDeparture(of: participant, departure)
    }

    /// Takes out the connection (a participant's or a bare one), closes it at once and
    /// announces why.
    public func disconnect(_ stream: TCPStream, _ departure: Departure) {
        if let participant = roster.companion(of: stream) {
            disconnect(participant, departure)
            return
        }
        let peer = stream.peerAddress
        guard leave(stream) else { return }
        stream.close()
        announceDeparture(of: stream, peer: peer, departure)
    }

    // MARK: Names

    /// Renames `participant` and tells everyone; throws ``RenameRefusal`` (and changes nothing)
    /// if the name is invalid, taken, or already theirs.
    public func rename(_ participant: Participant, to name: String) throws(RenameRefusal) {
        if let problem = Nickname.problem(with: name) { throw .invalid(problem) }
        if name == participant.name { throw .unchanged }
        if let holder = byName[Nickname.key(name)], holder !== participant { throw .taken }
        if remoteNames[Nickname.key(name)] != nil { throw .taken }
        let old = participant.name
        byName[Nickname.key(old)] = nil
        byName[Nickname.key(name)] = participant
        participant.name = name
        log.info("\(old) (\(participant.peer?.description ?? "unknown address")) is now \(name)")
        send(ChatText.youAreNow(name), to: participant)
        relay?(.renamed(from: old, to: name))
        deliver(ChatText.renamed(from: old, to: name), except: participant)
    }

    /// Gives `participant` back its name `old` after another process won `name` (the
    /// federation's claim): tells it and the local room, relays nothing.
    func restoreName(_ participant: Participant, to old: String) {
        let taken = participant.name
        guard participant.isPresent, byName[Nickname.key(old)] == nil else { return }
        if byName[Nickname.key(taken)] === participant { byName[Nickname.key(taken)] = nil }
        byName[Nickname.key(old)] = participant
        participant.name = old
        log.info("\(taken) was claimed elsewhere first: \(participant.logDescription) is \(old) again")
        send(ChatText.nickRefused(.taken, asked: taken, current: old), to: participant)
        deliver(ChatText.renamed(from: taken, to: old), except: participant)
    }

    /// The names `/who` lists — the first `limit` local participants, then those of other
    /// processes in alphabetical order — and how many there are in all.
    public func whoNames(limit: Int) -> (names: [String], total: Int) {
        var names = earliestParticipants(limit).map(\.name)
        if names.count < limit { names += remoteNames.values.sorted().prefix(limit - names.count) }
        return (names, count + remoteNames.count)
    }

    // MARK: Writing

    /// Writes `line` to every participant but `sender`, unless the room is closing. One whose
    /// queue it would take over the bound is disconnected; one already gone is skipped.
    public func broadcast(_ line: Bytes, from sender: Participant?) {
        deliver(line, except: sender)
        if sender != nil, !isClosing { relay?(.line(line)) }
    }

    /// Writes a line from another process to every participant: one `Stream.broadcast`.
    func deliverRemote(_ line: Bytes) { deliver(line, except: nil as TCPStream?) }

    /// Writes lines from other processes, in order, to every participant: one `Stream.broadcast`
    /// of them all (one queued chunk per TCP participant rather than one per line). Each chunk
    /// may hold several newline-terminated lines; other streams (WebSocket, TLS) get one
    /// message per line.
    func deliverRemote(_ chunks: [Bytes]) {
        guard !isClosing, let first = chunks.first else { return }
        var all = first
        if chunks.count > 1 {
            var joined: [UInt8] = []
            joined.reserveCapacity(chunks.reduce(0) { $0 + $1.count })
            for chunk in chunks { chunk.withUnsafeBytes { joined.append(contentsOf: $0) } }
            all = Bytes(joined)
        }
        count(all, from: false, lines: Room.lineCount(in: all))
        Stream.broadcast(all, to: roster.elements, except: nil, queueLimit: maxQueuedBytes) { overBound.append($0) }
        if hasLinks {
            for line in Room.lines(in: all) { relayToLinks(line, except: nil) }
        }
        if !overBound.isEmpty || !overBoundLinks.isEmpty { disconnectSlowReaders() }
    }

    /// How many lines `bytes` holds (newline-terminated, and a last one without a newline).
    static func lineCount(in bytes: Bytes) -> Int {
        var lines = 0
        bytes.withUnsafeBytes { raw in
            for byte in raw where byte == UInt8(ascii: "\n") { lines += 1 }
            if let last = raw.last, last != UInt8(ascii: "\n") { lines += 1 }
        }
        return lines
    }

    /// The newline-terminated lines of `bytes` (a last one without a newline too), as slices.
    static func lines(in bytes: Bytes) -> [Bytes] {
        var lines: [Bytes] = []
        var start = 0
        bytes.withUnsafeBytes { raw in
            for index in raw.indices where raw[index] == UInt8(ascii: "\n") {
                lines.append(bytes.slice(start..<index + 1))
                start = index + 1
            }
        }
        if start < bytes.count { lines.append(bytes.slice(start..<bytes.count)) }
        return lines
    }

    /// ``broadcast(_:from:)`` without telling ``relay``: for what is said to this room only.
    private func deliver(_ line: Bytes, except sender: Participant?) {
        guard !isClosing else { return }
        count(line, from: sender != nil)
        if !roster.elements.isEmpty {
            Stream.broadcast(line, to: roster.elements, except: sender?.tcp, queueLimit: maxQueuedBytes) { overBound.append($0) }
        }
        if hasLinks { relayToLinks(line, except: sender) }
        if !overBound.isEmpty || !overBoundLinks.isEmpty { disconnectSlowReaders() }
    }

    /// Writes `line` to every connection but `sender`'s, as for a participant.
    public func broadcast(_ line: Bytes, from sender: TCPStream?) {
        deliver(line, except: sender)
        if sender != nil, !isClosing { relay?(.line(line)) }
    }

    private func deliver(_ line: Bytes, except sender: TCPStream?) {
        guard !isClosing else { return }
        count(line, from: sender != nil)
        // Closed or failed streams are skipped: their own tasks see that when they next read.
        Stream.broadcast(line, to: roster.elements, except: sender, queueLimit: maxQueuedBytes) { overBound.append($0) }
        if hasLinks { relayToLinks(line, except: nil) }
        if !overBound.isEmpty || !overBoundLinks.isEmpty { disconnectSlowReaders() }
    }

    /// Counts a broadcast line for the metrics (the recipients as present; a closed one is
    /// counted until its task notices).
    private func count(_ line: Bytes, from hasSender: Bool, lines: Int = 1) {
        metrics.linesRelayed += lines
        metrics.bytesOut += line.count * max(0, count - (hasSender ? 1 : 0))
    }

    /// True if participants over other streams than TCP are present.
    private var hasLinks: Bool { !browsers.elements.isEmpty || !links.elements.isEmpty }

    /// The rest of a broadcast after the TCP streams: the browsers' (one frame for all, see
    /// ``browsers``), then a write per participant over another stream (TLS), each checked
    /// against the same bound. Those over it are disconnected after the broadcast.
    private func relayToLinks(_ line: Bytes, except sender: Participant?) {
        if !browsers.elements.isEmpty {
            let skipped = sender?.kind == .websocket ? (sender?.stream as? WebSocketLineStream)?.socket : nil
            WebSocket.broadcast(
                browserFramer.message(for: line), to: browsers.elements, except: skipped, queueLimit: maxQueuedBytes
            ) { socket in
                if let participant = browsers.companion(of: socket) { overBoundLinks.append(participant) }
            }
        }
        for participant in links.elements where participant !== sender {
            if isOverBound(after: line, to: participant.stream) { overBoundLinks.append(participant) }
        }
    }

    /// Writes `line` to `stream`; true if its outbound queue is now over ``maxQueuedBytes``.
    /// A closed or failed stream is skipped: its own task sees that when it next reads.
    private func isOverBound(after line: Bytes, to stream: any ByteStream) -> Bool {
        guard !stream.isClosed, (try? stream.write(line)) != nil else { return false }
        return stream.bufferedWriteCount > maxQueuedBytes
    }

    /// Writes `line` to one participant, disconnecting it if that would take its queue over the bound.
    public func send(_ line: Bytes, to participant: Participant) {
        metrics.bytesOut += line.count
        guard let tcp = participant.tcp else {
            if isOverBound(after: line, to: participant.stream) {
                overBoundLinks.append(participant)
                disconnectSlowReaders()
            }
            return
        }
        send(line, to: tcp)
    }

    /// Writes `line` to one connection, as for a participant.
    public func send(_ line: Bytes, to stream: TCPStream) {
        do {
            try stream.write(line, queueLimit: maxQueuedBytes)
        } catch is WriteQueueFullError {
            overBound.append(stream)
            disconnectSlowReaders()
        } catch {
            // As in `broadcast`.
        }
    }

    /// Disconnects the participants found over their bound. Announcing one departure may find
    /// more; the outermost call handles them all, so this never recurses.
    private func disconnectSlowReaders() {
        guard !isDisconnectingSlow else { return }
        isDisconnectingSlow = true
        defer { isDisconnectingSlow = false }
        while !overBound.isEmpty || !overBoundLinks.isEmpty {
            if let stream = overBound.popLast() { disconnect(stream, .tooSlow) }
            if let participant = overBoundLinks.popLast() { disconnect(participant, .tooSlow) }
        }
    }

    // MARK: Closing

    /// Starts shutting the room down: nothing more is relayed, and `farewell` (if any) is
    /// queued to everyone present.
    public func close(farewell: Bytes?) {
        guard !isClosing else { return }
        if let farewell {
            for stream in streams { try? stream.write(farewell) }
            for participant in linkedParticipants { try? participant.stream.write(farewell) }
        }
        isClosing = true
    }

    /// Disconnects everyone present (at shutdown).
    public func disconnectAll(_ departure: Departure) {
        let (connections, members) = roster.removeAll()
        let others = links.removeAll().elements + browsers.removeAll().companions.compactMap { $0 }
        byName = [:]
        for participant in others {
            participant.isPresent = false
            participant.stream.close()
            announceDeparture(of: participant, departure)
        }
        for (stream, participant) in zip(connections, members) {
            if let participant {
                participant.isPresent = false
                stream.close()
                announceDeparture(of: participant, departure)
            } else if !stream.isClosed {
                let peer = stream.peerAddress
                stream.close()
                announceDeparture(of: stream, peer: peer, departure)
            }
        }
    }

    // MARK: Summaries

    /// Announces the joins and departures counted since the last summary, if any, to everyone:
    /// `1,234 joined and 56 left in the last second (19,000 here)`. Called once per
    /// ``summaryInterval`` while there are some; a test may call it directly, which also
    /// cancels the one scheduled.
    public func announceSummary() {
        guard unannouncedJoins > 0 || unannouncedDepartures > 0 else { return }
        // Cleared first: announcing may disconnect slow readers, whose departures start the next one.
        isSummaryScheduled = false
        summaryGeneration += 1
        let line = ChatText.summary(
            joined: unannouncedJoins, left: unannouncedDepartures, present: count, interval: summaryPeriod)
        unannouncedJoins = 0
        unannouncedDepartures = 0
        deliver(line, except: nil as TCPStream?)
    }

    /// Makes sure a summary is announced within its period (``summaryInterval``, or ten times it
    /// in a room of more than ten times the threshold): one sleeping task at a time, started by
    /// the first join or departure it counts, on the room's loop.
    private func scheduleSummary() {
        guard !isSummaryScheduled else { return }
        let isCrowd = largeRoomThreshold <= Int.max / 10 && count > 10 * largeRoomThreshold
        summaryPeriod = isCrowd ? summaryInterval * 10 : summaryInterval
        guard let loop = Loop.current else { return announceSummary() }
        isSummaryScheduled = true
        let generation = summaryGeneration
        loop.spawn {
            // Cancelled when the loop stops: the room is going away, nothing to announce.
            guard (try? await loop.sleep(for: self.summaryPeriod)) != nil else { return }
            // Announced already (by a direct call), and maybe scheduled again since.
            guard generation == self.summaryGeneration else { return }
            self.announceSummary()
        }
    }
}
