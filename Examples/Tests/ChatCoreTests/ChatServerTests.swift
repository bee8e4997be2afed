import ChatCore
import Testing
import UVLoop
import UVLoopTestSupport

/// Runs a chat server and `body` with it on a fresh loop; stops the server and closes the
/// clients `body` made afterwards.
func withServer<T: Sendable>(
    _ configure: @escaping @Sendable (inout ChatConfiguration) -> Void = { _ in },
    console: Console = Console { _ in },
    _ body: @escaping @Sendable (RunningServer) async throws -> T
) async throws -> T {
    try await onLoop { loop in
        let server = try RunningServer.start(configure, console: console, on: loop)
        do {
            let result = try await body(server)
            await server.stop()
            return result
        } catch {
            await server.stop()
            throw error
        }
    }
}

@Suite("ChatServer")
struct ChatServerTests {
    @Test("lines reach the others as 'name: text', sanitised, never the sender")
    func relays() async throws {
        let lines = try await withServer { server -> [[UInt8]] in
            let a = try await server.join()
            let b = try await server.join()
            defer { close(a, b) }
            _ = try await a.line()  // guest-2 joined
            try a.send([0x68, 0x69, 0x1B, 0x5B, 0x33, 0x31, 0x6D, 0x07, 0x00, 0x09, 0xFF, 0x0D, 0x0A])
            try b.send("back\n")
            return [try await b.rawLine(), try await a.rawLine()]
        }
        #expect(lines[0] == Array("guest-1: hi[31m\t\u{FFFD}\n".utf8))
        #expect(lines[1] == Array("guest-2: back\n".utf8))  // not its own line first
    }

    @Test("/nick renames and is announced; a taken or invalid name is refused to the sender only")
    func nick() async throws {
        let lines = try await withServer { server -> [String] in
            let a = try await server.join()
            let b = try await server.join()
            defer { close(a, b) }
            _ = try await a.line()  // guest-2 joined
            try a.send("/nick alice\n")
            let confirmed = try await a.line()
            let announced = try await b.line()
            try b.send("/nick Alice\n/nick bad name\n/nick \(String(repeating: "x", count: 33))\n/nick\nafter refusals\n")
            var lines = [confirmed, announced]
            for _ in 0..<4 { lines.append(try await b.line()) }
            lines.append(try await a.line())  // the first line a gets after b's refusals
            return lines
        }
        #expect(lines[0] == "You are now known as alice.")
        #expect(lines[1] == "guest-1 is now known as alice")
        #expect(lines[2].contains("taken") && lines[2].contains("guest-2"))
        #expect(lines[3].contains("spaces"))
        #expect(lines[4].contains("too long"))
        #expect(lines[5].contains("Usage: /nick"))
        #expect(lines[6] == "guest-2: after refusals")
    }

    @Test("/who lists everyone to the asker; /me is seen by the others; /help and unknown commands reply only")
    func commands() async throws {
        let lines = try await withServer { server -> [String] in
            let a = try await server.join()
            let b = try await server.join()
            defer { close(a, b) }
            _ = try await a.line()  // guest-2 joined
            try a.send("/who\n/me waves\n/help\n/dance\n/me\n//slash\n")
            var lines: [String] = []
            for _ in 0..<4 { lines.append(try await a.line()) }
            for _ in 0..<2 { lines.append(try await b.line()) }
            return lines
        }
        #expect(lines[0] == "In the room (2): guest-1, guest-2")
        #expect(lines[1].contains("/nick") && lines[1].contains("/quit"))
        #expect(lines[2].contains("Unknown command /dance"))
        #expect(lines[3].hasPrefix("Usage: /me"))
        #expect(lines[4] == "* guest-1 waves")
        #expect(lines[5] == "guest-1: /slash")
    }

    @Test("/quit says goodbye, closes, and the others see the leave")
    func quit() async throws {
        let outcome = try await withServer { server -> (String, Bool, String) in
            let a = try await server.join()
            let b = try await server.join()
            defer { close(a, b) }
            try b.send("/quit\n")
            let goodbye = try await b.line()
            let closed = try await b.isClosedByServer()
            _ = try await a.line()  // guest-2 joined
            return (goodbye, closed, try await a.line())
        }
        #expect(outcome.0 == "Goodbye, guest-2!")
        #expect(outcome.1)
        #expect(outcome.2 == "guest-2 left")
    }

    @Test("a reset is announced as a leave")
    func reset() async throws {
        let line = try await withServer { server -> String in
            let a = try await server.join()
            defer { a.close() }
            let b = try await server.join()
            b.stream.reset()
            _ = try await a.line()  // guest-2 joined
            return try await a.line()
        }
        #expect(line.hasPrefix("guest-2 left"))
    }

    @Test("an overlong line is refused to its sender, not relayed, and the connection stays usable")
    func overlongLine() async throws {
        let configure: @Sendable (inout ChatConfiguration) -> Void = { $0.maxLineLength = 100 }
        let lines = try await withServer(configure) { server -> [String] in
            let a = try await server.join()
            let b = try await server.join()
            defer { close(a, b) }
            _ = try await a.line()  // guest-2 joined
            try a.send(String(repeating: "x", count: 101) + "\n" + String(repeating: "y", count: 100) + "\n")
            return [try await a.line(), try await b.line()]
        }
        #expect(lines[0].contains("longer than 100 bytes"))
        #expect(lines[1] == "guest-1: " + String(repeating: "y", count: 100))
    }

    @Test("a flood is cut to the burst, with one notice to the sender")
    func flood() async throws {
        let configure: @Sendable (inout ChatConfiguration) -> Void = { $0.floodBurst = 10 }
        let outcome = try await withServer(configure) { server -> (Int, [String]) in
            let a = try await server.join()
            let b = try await server.join()
            let c = try await server.join()
            defer { close(a, b, c) }
            for _ in 0..<2 { _ = try await a.line() }  // joins
            _ = try await b.line()
            try a.send((0..<40).map { "flood \($0)\n" }.joined())
            let notice = try await a.line()
            try c.send("marker\n")
            var relayed = 0
            while try await b.line() != "guest-3: marker" { relayed += 1 }
            return (relayed, [notice, try await a.line()])
        }
        #expect((10...11).contains(outcome.0))
        #expect(outcome.1[0].contains("too fast"))
        #expect(outcome.1[1] == "guest-3: marker")  // one notice, not one per dropped line
    }

    @Test("an idle participant is told and disconnected; the others see why")
    func idleTimeout() async throws {
        let configure: @Sendable (inout ChatConfiguration) -> Void = {
            $0.idleTimeout = .milliseconds(300)
            $0.floodRate = nil
        }
        let outcome = try await withServer(configure) { server -> [String] in
            let a = try await server.join()
            let b = try await server.join()
            defer { close(a, b) }
            _ = try await a.line()  // guest-2 joined
            // b keeps talking, one line per round trip, until a (silent) is timed out.
            var notice = ""
            while !notice.contains("disconnected") {
                try b.send("ping\n")
                notice = try await a.line()
            }
            #expect(try await a.isClosedByServer())
            return [notice, try await b.line()]
        }
        #expect(outcome[0].contains("sent nothing"))
        #expect(outcome[1] == "guest-1 left (idle too long)")
    }

    @Test("past the large-room threshold, joins and departures reach everyone as one summary line per interval")
    func largeRoomSummaries() async throws {
        let configure: @Sendable (inout ChatConfiguration) -> Void = {
            $0.largeRoomThreshold = 1
            $0.summaryInterval = .milliseconds(50)
        }
        let lines = try await withServer(configure) { server -> [String] in
            let a = try await server.join()  // a room of 1: announced (to nobody)
            let b = try await server.join()  // a room of 2: counted
            defer { close(a, b) }
            let joins = try await a.line()  // 50 ms after b's arrival
            let seenByNewcomer = try await b.line()
            try b.send("/quit\n")
            return [joins, seenByNewcomer, try await a.line()]
        }
        #expect(lines[0] == "1 joined in the last 0.05 seconds (2 here)")
        #expect(lines[1] == lines[0])
        #expect(lines[2] == "1 left in the last 0.05 seconds (1 here)")
    }

    @Test("a connection over the cap is told the room is full and closed")
    func roomFull() async throws {
        let configure: @Sendable (inout ChatConfiguration) -> Void = { $0.maxParticipants = 1 }
        let outcome = try await withServer(configure) { server -> (String, Bool, Int) in
            let a = try await server.join()
            defer { a.close() }
            let b = try await Client.connect(to: server.port, on: server.loop)
            defer { b.close() }
            let line = try await b.line()
            return (line, try await b.isClosedByServer(), server.server.room.count)
        }
        #expect(outcome.0.contains("room is full"))
        #expect(outcome.1)
        #expect(outcome.2 == 1)
    }

    @Test("shutdown tells everyone, flushes, closes, and prints the console lines")
    func shutdown() async throws {
        let recorder = ConsoleRecorder()
        let outcome = try await onLoop { [console = recorder.console] loop -> (String, Bool) in
            let server = try RunningServer.start(console: console, on: loop)
            let a = try await server.join()
            defer { a.close() }
            await server.stop()
            return (try await a.line(), try await a.isClosedByServer())
        }
        #expect(outcome.0 == "The server is shutting down. Goodbye!")
        #expect(outcome.1)
        #expect(recorder.captured.first?.hasPrefix("ChatServer starting up on port ") == true)
        #expect(recorder.captured.last == "ChatServer exiting.")
    }

    @Test("plain mode relays byte for byte, with no welcome, and prints the seed's console lines")
    func plain() async throws {
        let recorder = ConsoleRecorder()
        let configure: @Sendable (inout ChatConfiguration) -> Void = { configuration in
            configuration = .plain(true)
            configuration.host = "127.0.0.1"
            configuration.port = 0
        }
        let line = try await withServer(configure, console: recorder.console) { server -> [UInt8] in
            let a = try await server.join()
            let b = try await server.join()
            defer { close(a, b) }
            try a.send([0x2F, 0x6E, 0x69, 0x63, 0x6B, 0x20, 0xFF, 0x1B, 0x0D, 0x0A])
            return try await b.rawLine()
        }
        #expect(line == [0x2F, 0x6E, 0x69, 0x63, 0x6B, 0x20, 0xFF, 0x1B, 0x0D, 0x0A])
        let console = recorder.captured.dropFirst()
        #expect(Array(console.prefix(2)) == ["Participant joined chat.", "Participant joined chat."])
        #expect(console.last == "ChatServer exiting.")
    }
}
