import ChatCore
import Foundation
import Testing
import UVLoop
import UVLoopTestSupport

/// A participant over a stream other than TCP (here a Unix-domain socket, a `PipeStream`) is
/// relayed to a line at a time rather than by the TCP fast path: these check it shares the room.
@Suite("Room: participants over other streams")
struct LinkedParticipantTests {
    /// A connected Unix-domain socket pair: the client end and the server end.
    static func unixPair(on loop: Loop) async throws -> (client: PipeStream, server: PipeStream) {
        let path = NSTemporaryDirectory() + "chatcore-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
        let listener = try UnixListener(path: path, on: loop)
        defer { listener.close() }
        let client = try await PipeStream.connect(path: path, on: loop)
        return (client, try await listener.accept())
    }

    @Test("lines flow both ways between TCP and non-TCP participants; both are counted, listed and announced")
    func relayBothWays() async throws {
        let outcome = try await onLoop { loop -> [String] in
            let (room, participants, clients) = try await makeRoom(1, on: loop)
            defer { closeAll(room, clients) }
            let (unixClient, unixServer) = try await Self.unixPair(on: loop)
            defer { unixClient.close() }
            _ = try await clients[0].line()  // its welcome
            let linked = room.admit(unixServer, kind: .tls)
            let welcome = try await loop.withTimeout(.seconds(5)) { try await unixClient.readLine() } ?? ""
            let joined = try await clients[0].line()
            room.broadcast(ChatText.chat("guest-1", "to the socket"), from: participants[0])
            let fromTCP = try await loop.withTimeout(.seconds(5)) { try await unixClient.readLine() } ?? ""
            room.broadcast(ChatText.chat(linked.name, "to TCP"), from: linked)
            let fromLinked = try await clients[0].line()
            let counts = "\(room.count) \(room.count(of: .tcp)) \(room.count(of: .tls)) \(room.count(of: .websocket))"
            let names = room.participants.map(\.name).joined(separator: ",")
            room.disconnect(linked, .closed)
            let left = try await clients[0].line()
            return [welcome, joined, fromTCP, fromLinked, counts, names, left, "\(room.count)"]
        }
        #expect(
            outcome == [
                "Welcome to the chat! You are guest-2. Type /help for the commands.", "guest-2 joined",
                "guest-1: to the socket", "guest-2: to TCP", "2 1 1 0", "guest-1,guest-2", "guest-2 left", "1",
            ])
    }

    @Test("a non-TCP participant who stops reading is disconnected as not reading, like a TCP one")
    func slowLinkedReader() async throws {
        let outcome = try await onLoop { loop -> (Bool, String) in
            let (room, participants, clients) = try await makeRoom(1, maxQueuedBytes: 64 * 1024, on: loop)
            defer { closeAll(room, clients) }
            let (unixClient, unixServer) = try await Self.unixPair(on: loop)
            defer { unixClient.close() }
            _ = try await clients[0].line()  // its welcome
            let sleeper = room.admit(unixServer, kind: .tls)  // its client never reads
            _ = try await clients[0].line()  // guest-2 joined
            let line = String(repeating: "x", count: 1000)
            var sent = 0
            while sleeper.isPresent && sent < 100_000 {
                room.broadcast(ChatText.chat("guest-1", line), from: participants[0])
                sent += 1
                if sent % 50 == 0 { try await loop.sleep(for: .zero) }  // let the loop write
            }
            return (sleeper.isPresent, try await clients[0].line())
        }
        #expect(outcome.0 == false)
        #expect(outcome.1 == "guest-2 left (not reading; disconnected)")
    }
}
