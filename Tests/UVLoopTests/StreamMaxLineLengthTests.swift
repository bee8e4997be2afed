import Testing
import UVLoop
import UVLoopTestSupport

@Suite("Stream.maxLineLength")
struct StreamMaxLineLengthTests {
    @Test("changing maxLineLength after reading keeps the bytes already received, under the new limit")
    func changeAfterReading() async throws {
        let lines = try await onLoop { loop -> [String] in
            let (client, server) = try await connectedPair(on: loop)
            defer { close(client, server) }
            try client.write("first\nsecond\n\(String(repeating: "x", count: 20))\nthird\n")
            try await client.flush()
            var lines = [try await server.readLine() ?? "<eof>"]
            server.maxLineLength = 10
            lines.append(try await server.readLine() ?? "<eof>")
            do { _ = try await server.readLine() } catch is LineTooLongError { lines.append("too long") }
            lines.append(try await server.readLine() ?? "<eof>")
            return lines
        }
        #expect(lines == ["first", "second", "too long", "third"])
    }
}
