import ChatCore
import Testing
import UVLoop
import UVLoopTestSupport

/// A room of `count` participants: clients connected to server-side streams the room admitted.
func makeRoom(
    _ count: Int, plain: Bool = false, maxQueuedBytes: Int = 1024 * 1024, largeRoomThreshold: Int = .max,
    console: Console = Console { _ in }, on loop: Loop
) async throws -> (Room, [Participant], [Client]) {
    // The summaries of a large room are announced by the test itself (announceSummary), not by the clock.
    let room = Room(
        isPlain: plain, maxQueuedBytes: maxQueuedBytes, floodLimit: nil, largeRoomThreshold: largeRoomThreshold,
        summaryInterval: .seconds(60), log: quietLog, console: console)
    let listener = try TCPListener(host: "127.0.0.1", port: 0, on: loop)
    defer { listener.close() }
    var participants: [Participant] = []
    var clients: [Client] = []
    for _ in 0..<count {
        clients.append(try await Client.connect(to: listener.port, on: loop))
        participants.append(room.admit(try await listener.accept()))
    }
    return (room, participants, clients)
}

func closeAll(_ room: Room, _ clients: [Client]) {
    room.disconnectAll(.shutdown)
    for client in clients { client.close() }
}

@Suite("Room")
struct RoomTests {
    @Test("newcomers get guest-N names, a welcome, and are announced to those already in")
    func admitting() async throws {
        let lines = try await onLoop { loop -> [String] in
            let (room, participants, clients) = try await makeRoom(2, on: loop)
            defer { closeAll(room, clients) }
            #expect(participants.map(\.name) == ["guest-1", "guest-2"])
            return [try await clients[0].line(), try await clients[0].line(), try await clients[1].line()]
        }
        #expect(lines[0].contains("guest-1") && lines[0].contains("/help"))
        #expect(lines[1] == "guest-2 joined")
        #expect(lines[2].contains("guest-2") && lines[2].contains("/help"))
    }

    @Test("a broadcast reaches everyone but its sender")
    func broadcast() async throws {
        let lines = try await onLoop { loop -> [String] in
            let (room, participants, clients) = try await makeRoom(3, on: loop)
            defer { closeAll(room, clients) }
            room.broadcast(ChatText.chat("guest-2", "hi"), from: participants[1])
            room.broadcast(ChatText.chat("guest-1", "marker"), from: participants[0])
            // guest-2's next line is guest-1's marker: its own line did not come back first.
            _ = try await clients[1].line()  // welcome
            _ = try await clients[1].line()  // guest-3 joined
            var lines = [try await clients[1].line()]
            for _ in 0..<3 { _ = try await clients[0].line() }  // welcome, two joins
            lines.append(try await clients[0].line())
            _ = try await clients[2].line()  // welcome
            lines.append(try await clients[2].line())
            lines.append(try await clients[2].line())
            return lines
        }
        #expect(lines == ["guest-1: marker", "guest-2: hi", "guest-2: hi", "guest-1: marker"])
    }

    @Test("rename refuses taken (any case), invalid and unchanged names, and changes nothing")
    func renameRefusals() async throws {
        let names = try await onLoop { loop -> [String] in
            let (room, participants, clients) = try await makeRoom(2, on: loop)
            defer { closeAll(room, clients) }
            try room.rename(participants[0], to: "alice")
            #expect(throws: RenameRefusal.taken) { try room.rename(participants[1], to: "ALICE") }
            #expect(throws: RenameRefusal.invalid(.containsSpace)) { try room.rename(participants[1], to: "a b") }
            #expect(throws: RenameRefusal.invalid(.tooLong)) { try room.rename(participants[1], to: String(repeating: "b", count: 33)) }
            #expect(throws: RenameRefusal.unchanged) { try room.rename(participants[0], to: "alice") }
            try room.rename(participants[0], to: "Alice")  // a change of case is a rename
            #expect(room.participant(named: "alice") === participants[0])
            return room.participants.map(\.name)
        }
        #expect(names == ["Alice", "guest-2"])
    }

    @Test("a rename is confirmed to the participant and announced to the others")
    func renameAnnounced() async throws {
        let lines = try await onLoop { loop -> [String] in
            let (room, participants, clients) = try await makeRoom(2, on: loop)
            defer { closeAll(room, clients) }
            try room.rename(participants[0], to: "alice")
            for _ in 0..<2 { _ = try await clients[0].line() }  // welcome, guest-2 joined
            _ = try await clients[1].line()  // welcome
            return [try await clients[0].line(), try await clients[1].line()]
        }
        #expect(lines[0].contains("alice"))
        #expect(lines[1] == "guest-1 is now known as alice")
    }

    @Test("a guest name already taken by a rename is skipped")
    func guestNumbersSkipTakenNames() async throws {
        let names = try await onLoop { loop -> [String] in
            let (room, participants, clients) = try await makeRoom(1, on: loop)
            defer { closeAll(room, clients) }
            try room.rename(participants[0], to: "guest-2")
            let listener = try TCPListener(host: "127.0.0.1", port: 0, on: loop)
            defer { listener.close() }
            let client = try await Client.connect(to: listener.port, on: loop)
            defer { client.close() }
            room.admit(try await listener.accept())
            return room.participants.map(\.name)
        }
        #expect(names == ["guest-2", "guest-3"])
    }

    @Test("a participant who stops reading is disconnected and announced; the others get every line")
    func slowReader() async throws {
        let outcome = try await onLoop { loop -> (Bool, Int, String) in
            let (room, participants, clients) = try await makeRoom(3, maxQueuedBytes: 64 * 1024, on: loop)
            defer { closeAll(room, clients) }
            let sleeper = participants[2]  // clients[2] never reads
            var received = 0
            let reader = loop.spawn {
                while let line = try await clients[1].stream.readLine() {
                    if line.hasPrefix("guest-1: ") { received += 1 }
                    if line == "guest-1: done" { return }
                }
            }
            let line = String(repeating: "x", count: 1000)
            var sent = 0
            while sleeper.isPresent && sent < 100_000 {
                room.broadcast(ChatText.chat("guest-1", line), from: participants[0])
                sent += 1
                if sent % 50 == 0 { try await loop.sleep(for: .zero) }  // let the loop write
            }
            room.broadcast(ChatText.chat("guest-1", "done"), from: participants[0])
            await reader.value
            var notice = ""
            while !notice.hasPrefix("guest-3 left") { notice = try await clients[0].line() }
            return (sleeper.isPresent, received - 1 == sent ? sent : -1, notice)
        }
        #expect(outcome.0 == false)
        #expect(outcome.1 > 0)
        #expect(outcome.2 == "guest-3 left (not reading; disconnected)")
    }

    @Test("plain mode: no welcome or notices on the wire, the seed's console lines instead")
    func plainRoom() async throws {
        let recorder = ConsoleRecorder()
        let line = try await onLoop { [console = recorder.console] loop -> [UInt8] in
            let (room, participants, clients) = try await makeRoom(2, plain: true, console: console, on: loop)
            defer { for client in clients { client.close() } }
            room.broadcast(Bytes([0x61, 0xFF, 0x1B, 0x0D, 0x0A]), from: participants[0])
            let line = try await clients[1].rawLine()
            room.disconnect(participants[0], .closed)
            room.disconnectAll(.shutdown)
            return line
        }
        #expect(line == [0x61, 0xFF, 0x1B, 0x0D, 0x0A])
        #expect(
            recorder.captured == [
                "Participant joined chat.", "Participant joined chat.", "Participant left chat.", "Participant left chat.",
            ])
    }

    @Test("plain mode: bare streams join, get every other's lines, leave once; a slow one is disconnected")
    func bareStreams() async throws {
        let recorder = ConsoleRecorder()
        let outcome = try await onLoop { [console = recorder.console] loop -> ([UInt8], [UInt8], Bool, Bool, Int, Bool) in
            let room = Room(isPlain: true, maxQueuedBytes: 64 * 1024, floodLimit: nil, log: quietLog, console: console)
            let listener = try TCPListener(host: "127.0.0.1", port: 0, on: loop)
            defer { listener.close() }
            var clients: [Client] = []
            var streams: [TCPStream] = []
            for _ in 0..<3 {
                clients.append(try await Client.connect(to: listener.port, on: loop))
                let stream = try await listener.accept()
                room.join(stream)
                streams.append(stream)
            }
            defer { for client in clients { client.close() } }
            room.broadcast(Bytes("hi\n"), from: streams[0])
            room.broadcast(Bytes("yo\n"), from: streams[1])
            let atTwo = try await clients[2].rawLine() + (try await clients[2].rawLine())
            let atZero = try await clients[0].rawLine()
            let left = room.leave(streams[1])
            let leftTwice = room.leave(streams[1])
            streams[1].close()
            // clients[2] never reads: the room disconnects it once its queue passes the bound.
            let line = Bytes(String(repeating: "x", count: 1000) + "\n")
            var sent = 0
            while !streams[2].isClosed && sent < 100_000 {
                room.broadcast(line, from: streams[0])
                sent += 1
                if sent % 50 == 0 { try await loop.sleep(for: .zero) }  // let the loop write
            }
            let count = room.count
            room.disconnectAll(.shutdown)
            return (atTwo, atZero, left, leftTwice, count, streams[2].isClosed)
        }
        #expect(outcome.0 == Array("hi\nyo\n".utf8))
        #expect(outcome.1 == Array("yo\n".utf8))
        #expect(outcome.2 && !outcome.3)
        #expect(outcome.4 == 1)
        #expect(outcome.5)
        #expect(
            recorder.captured == Array(repeating: "Participant joined chat.", count: 3)
                + Array(repeating: "Participant left chat.", count: 2))
    }

    @Test("a large room counts joins and departures past the threshold and announces them in one summary line")
    func largeRoomSummaries() async throws {
        let lines = try await onLoop { loop -> [String] in
            let (room, participants, clients) = try await makeRoom(6, largeRoomThreshold: 2, on: loop)
            defer { closeAll(room, clients) }
            room.announceSummary()  // guest-3 to guest-6 joined a room of more than 2
            room.announceSummary()  // nothing new: says nothing
            for participant in participants[1...4] { room.disconnect(participant, .closed) }
            room.announceSummary()  // they left a room of more than 2
            room.broadcast(ChatText.chat("guest-6", "marker"), from: participants[5])
            var lines: [String] = []
            for _ in 0..<5 { lines.append(try await clients[0].line()) }
            return lines
        }
        #expect(
            lines == [
                "Welcome to the chat! You are guest-1. Type /help for the commands.", "guest-2 joined",
                "4 joined in the last 60 seconds (6 here)", "4 left in the last 60 seconds (2 here)", "guest-6: marker",
            ])
    }

    @Test("a room at the threshold still announces each departure, and one more leaving it is back to one by one")
    func thresholdIsInclusive() async throws {
        let lines = try await onLoop { loop -> [String] in
            let (room, participants, clients) = try await makeRoom(3, largeRoomThreshold: 2, on: loop)
            defer { closeAll(room, clients) }
            room.disconnect(participants[2], .closed)  // a room of 3: counted
            room.disconnect(participants[1], .quit)  // a room of 2: announced
            room.announceSummary()
            var lines: [String] = []
            for _ in 0..<4 { lines.append(try await clients[0].line()) }
            return lines
        }
        #expect(
            lines == [
                "Welcome to the chat! You are guest-1. Type /help for the commands.", "guest-2 joined", "guest-2 left",
                "1 joined and 1 left in the last 60 seconds (1 here)",
            ])
    }

    @Test("a room of more than ten times the threshold summarises every ten intervals")
    func crowdSummaries() async throws {
        let line = try await onLoop { loop -> String in
            let (room, participants, clients) = try await makeRoom(12, largeRoomThreshold: 1, on: loop)
            defer { closeAll(room, clients) }
            room.announceSummary()  // scheduled by the second join, in a room of 2
            room.disconnect(participants[11], .closed)  // scheduled in a room of 11
            room.announceSummary()
            var line = ""
            while !line.contains(" left ") { line = try await clients[0].line() }
            return line
        }
        #expect(line == "1 left in the last 600 seconds (11 here)")
    }

    @Test("participants stay in order of arrival after departures; the earliest few are found without sorting everyone")
    func orderOfArrival() async throws {
        let names = try await onLoop { loop -> [[String]] in
            let (room, participants, clients) = try await makeRoom(5, on: loop)
            defer { closeAll(room, clients) }
            room.disconnect(participants[0], .closed)  // the last one takes its place in the roster
            room.disconnect(participants[2], .closed)
            return [room.participants.map(\.name), room.earliestParticipants(2).map(\.name), room.earliestParticipants(9).map(\.name)]
        }
        #expect(names == [["guest-2", "guest-4", "guest-5"], ["guest-2", "guest-4"], ["guest-2", "guest-4", "guest-5"]])
    }

    @Test("closing stops relaying and queues the farewell to everyone")
    func closing() async throws {
        let lines = try await onLoop { loop -> [String] in
            let (room, participants, clients) = try await makeRoom(2, on: loop)
            defer { closeAll(room, clients) }
            room.close(farewell: ChatText.shuttingDown)
            room.broadcast(ChatText.chat("guest-1", "too late"), from: participants[0])
            for _ in 0..<2 { _ = try await clients[0].line() }
            _ = try await clients[1].line()
            return [try await clients[0].line(), try await clients[1].line()]
        }
        #expect(lines == ["The server is shutting down. Goodbye!", "The server is shutting down. Goodbye!"])
    }
}
