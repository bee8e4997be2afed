import Testing
import UVLoop
import UVLoopTestSupport

@testable import ChatCore

/// The room's federation hooks, without Redis: what it relays, and how it takes remote events
/// and names. The relay through a real redis-server is `scripts/chat_federation_test.py`.
@Suite("Federation hooks of the room")
struct FederationRoomTests {
    /// A relayed event as text, for comparing.
    static func describe(_ event: RoomEvent) -> String {
        switch event {
        case .line(let line): "line \(LineReader.trimmingTerminator(line).string)"
        case .joined(let name): "joined \(name)"
        case .left(let name, let line): "left \(name): \(LineReader.trimmingTerminator(line).string)"
        case .renamed(let old, let new): "renamed \(old) \(new)"
        }
    }

    @Test("the room relays its participants' lines, joins, renames and leaves, not its own notices")
    func relaysLocalEvents() async throws {
        let relayed = try await onLoop { loop -> [String] in
            let (room, participants, clients) = try await makeRoom(1, on: loop)
            defer { closeAll(room, clients) }
            var relayed: [String] = []
            room.relay = { relayed.append(Self.describe($0)) }
            let listener = try TCPListener(host: "127.0.0.1", port: 0, on: loop)
            defer { listener.close() }
            let client = try await Client.connect(to: listener.port, on: loop)
            defer { client.close() }
            let newcomer = room.admit(try await listener.accept())
            try room.rename(newcomer, to: "bob")
            room.broadcast(ChatText.chat("bob", "hi"), from: newcomer)
            room.broadcast(ChatText.summary(joined: 1, left: 0, present: 2, interval: .seconds(1)), from: nil as Participant?)
            room.disconnect(newcomer, .quit)
            _ = participants
            return relayed
        }
        #expect(relayed == ["joined guest-2", "renamed guest-2 bob", "line bob: hi", "left bob: bob left"])
    }

    @Test("a plain room relays raw lines only")
    func plainRelaysLines() async throws {
        let relayed = try await onLoop { loop -> [String] in
            let room = Room(isPlain: true, maxQueuedBytes: 1 << 20, floodLimit: nil, log: quietLog, console: Console { _ in })
            var relayed: [String] = []
            room.relay = { relayed.append(Self.describe($0)) }
            let listener = try TCPListener(host: "127.0.0.1", port: 0, on: loop)
            defer { listener.close() }
            let client = try await Client.connect(to: listener.port, on: loop)
            defer { client.close() }
            let stream = try await listener.accept()
            room.join(stream)
            room.broadcast(Bytes("raw\u{1}\n"), from: stream)
            room.disconnect(stream, .closed)
            return relayed
        }
        #expect(relayed == ["line raw\u{1}"])
    }

    @Test("a remote line reaches every local participant; remote names are taken and listed by /who")
    func remoteEvents() async throws {
        let (lines, who, refusal) = try await onLoop { loop -> ([String], [String], RenameRefusal?) in
            let (room, participants, clients) = try await makeRoom(2, on: loop)
            defer { closeAll(room, clients) }
            var relayed = 0
            room.relay = { _ in relayed += 1 }
            room.remoteNames[Nickname.key("Zoe")] = "Zoe"
            room.deliverRemote(ChatText.chat("Zoe", "from afar"))
            _ = try await clients[0].line()  // welcome
            _ = try await clients[0].line()  // guest-2 joined
            var lines = [try await clients[0].line()]
            _ = try await clients[1].line()  // welcome
            lines.append(try await clients[1].line())
            var refusal: RenameRefusal?
            do throws(RenameRefusal) { try room.rename(participants[0], to: "zoe") } catch { refusal = error }
            let who = room.whoNames(limit: 50)
            #expect(who.total == 3)
            #expect(relayed == 0)
            return (lines, who.names, refusal)
        }
        #expect(lines == ["Zoe: from afar", "Zoe: from afar"])
        #expect(who == ["guest-1", "guest-2", "Zoe"])
        #expect(refusal == .taken)
    }

    @Test("a newcomer is not given a guest name held on another process")
    func guestNamesAvoidRemoteNames() async throws {
        let name = try await onLoop { loop -> String in
            let room = Room(isPlain: false, maxQueuedBytes: 1 << 20, floodLimit: nil, log: quietLog, console: Console { _ in })
            room.remoteNames[Nickname.key("guest-1")] = "guest-1"
            let listener = try TCPListener(host: "127.0.0.1", port: 0, on: loop)
            defer { listener.close() }
            let client = try await Client.connect(to: listener.port, on: loop)
            defer { client.close() }
            let participant = room.admit(try await listener.accept())
            defer { room.disconnectAll(.shutdown) }
            return participant.name
        }
        #expect(name == "guest-2")
    }

    @Test("the default node name is hostname-pid")
    func defaultNode() {
        let settings = FederationSettings(redisURL: "redis://127.0.0.1:6379")
        #expect(settings.room == "chat")
        #expect(settings.node.hasPrefix(FederationSettings.hostName() + "-"))
    }
}
