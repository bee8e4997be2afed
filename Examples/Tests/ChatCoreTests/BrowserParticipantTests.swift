import ChatCore
import Testing
import UVLoop
import UVLoopTestSupport
import UVLoopWebSocket

/// Browser participants (a `WebSocketLineStream` each) get the room's lines through
/// `WebSocket.broadcast`, one frame for them all: these check they share the room like the others.
@Suite("Room: browser participants", .timeLimit(.minutes(1)))
struct BrowserParticipantTests {
    /// A browser: the client's WebSocket, and the server's end as the room admits it.
    static func browser(on loop: Loop) async throws -> (client: WebSocket, link: WebSocketLineStream) {
        let listener = try TCPListener(host: "127.0.0.1", port: 0, on: loop)
        defer { listener.close() }
        let clientStream = try await TCPStream.connect(host: "127.0.0.1", port: listener.port, on: loop)
        let serverStream = try await listener.accept()
        let upgrade = loop.spawnTask { try await WebSocket.upgrade(serverStream) }
        let client = try await WebSocket.handshake(clientStream, host: "127.0.0.1", path: "/chat")
        return (client, WebSocketLineStream(try await upgrade.value))
    }

    /// The next text message, or a word saying what came instead.
    static func text(_ socket: WebSocket) async throws -> String {
        switch try await socket.receive() {
        case .text(let text): text
        case .binary: "binary"
        case nil: "closed"
        }
    }

    @Test("lines reach browsers and TCP participants alike; a browser's line reaches all but itself")
    func relay() async throws {
        let outcome = try await onLoop { loop -> [String] in
            let (room, participants, clients) = try await makeRoom(1, on: loop)
            let alice = try await Self.browser(on: loop)
            let bob = try await Self.browser(on: loop)
            defer {
                closeAll(room, clients)
                for socket in [alice.client, bob.client] { socket.stream.close() }
            }
            _ = try await clients[0].line()  // its welcome
            let aliceParticipant = room.admit(alice.link, kind: .websocket)
            let bobParticipant = room.admit(bob.link, kind: .websocket)
            var got = [try await Self.text(alice.client), try await Self.text(alice.client), try await Self.text(bob.client)]
            got += [try await clients[0].line(), try await clients[0].line()]
            room.broadcast(ChatText.chat("guest-1", "from TCP"), from: participants[0])
            got += [try await Self.text(alice.client), try await Self.text(bob.client)]
            room.broadcast(ChatText.chat(aliceParticipant.name, "from a browser"), from: aliceParticipant)
            got += [try await Self.text(bob.client), try await clients[0].line()]
            got.append("\(room.count) \(room.count(of: .tcp)) \(room.count(of: .websocket))")
            got.append(room.participants.map(\.name).joined(separator: ","))
            room.disconnect(bobParticipant, .closed)
            // Alice's next message is the departure: her own line did not come back to her.
            got += [try await Self.text(alice.client), try await Self.text(bob.client), "\(room.count)"]
            return got
        }
        #expect(
            outcome == [
                "Welcome to the chat! You are guest-2. Type /help for the commands.", "guest-3 joined",
                "Welcome to the chat! You are guest-3. Type /help for the commands.", "guest-2 joined", "guest-3 joined",
                "guest-1: from TCP", "guest-1: from TCP", "guest-2: from a browser", "guest-2: from a browser",
                "3 1 2", "guest-1,guest-2,guest-3", "guest-3 left", "closed", "2",
            ])
    }

    @Test("a browser who stops reading is disconnected as not reading, like a TCP participant")
    func slowBrowser() async throws {
        let outcome = try await onLoop { loop -> (Bool, Bool, String) in
            let (room, participants, clients) = try await makeRoom(1, maxQueuedBytes: 64 * 1024, on: loop)
            let sleeper = try await Self.browser(on: loop)  // its client never reads
            defer {
                closeAll(room, clients)
                sleeper.client.stream.close()
            }
            _ = try await clients[0].line()  // its welcome
            let participant = room.admit(sleeper.link, kind: .websocket)
            _ = try await clients[0].line()  // guest-2 joined
            let line = String(repeating: "x", count: 1000)
            var sent = 0
            while participant.isPresent && sent < 100_000 {
                room.broadcast(ChatText.chat("guest-1", line), from: participants[0])
                sent += 1
                if sent % 50 == 0 { try await loop.sleep(for: .zero) }  // let the loop write
            }
            return (participant.isPresent, sleeper.link.isClosed, try await clients[0].line())
        }
        #expect(outcome.0 == false)
        #expect(outcome.1)
        #expect(outcome.2 == "guest-2 left (not reading; disconnected)")
    }
}
