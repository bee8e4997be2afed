import Testing
import UVLoop

@Suite("LineReader")
struct LineReaderTests {
    /// Feeds `chunks` and collects every line (terminators included) plus the final one.
    func lines(_ chunks: [String], max: Int = 1024) -> [String] {
        var reader = LineReader(maxLineLength: max)
        var out: [String] = []
        for chunk in chunks {
            reader.append(Bytes(chunk))
            while let line = try? reader.nextLine() { out.append(line.string) }
        }
        if let last = reader.finish() { out.append("<eof>" + last.string) }
        return out
    }

    @Test("splits a chunk into lines, keeping each terminator")
    func splitsLines() {
        #expect(lines(["a\nbb\n\nccc\n"]) == ["a\n", "bb\n", "\n", "ccc\n"])
    }

    @Test("joins a line split across reads")
    func joinsSplitLines() {
        #expect(lines(["hel", "lo wo", "rld\nne", "xt\n"]) == ["hello world\n", "next\n"])
    }

    @Test("gives every chunking of the same input the same lines")
    func everyChunkingAgrees() {
        let input = Array("one\r\ntwo\nthree\r\n\nfour".utf8)
        let expected = lines([String(decoding: input, as: UTF8.self)])
        for cut1 in 0...input.count {
            for cut2 in cut1...input.count {
                let chunks = [input[..<cut1], input[cut1..<cut2], input[cut2...]].map { String(decoding: $0, as: UTF8.self) }
                #expect(lines(chunks) == expected, "cuts at \(cut1), \(cut2)")
            }
        }
    }

    @Test("keeps CRLF, even when CR and LF arrive in different reads")
    func handlesCRLF() {
        #expect(lines(["a\r", "\nb\r\n"]) == ["a\r\n", "b\r\n"])
        #expect(LineReader.trimmingTerminator(Bytes("a\r\n")).string == "a")
        #expect(LineReader.trimmingTerminator(Bytes("a\n")).string == "a")
        #expect(LineReader.trimmingTerminator(Bytes("a")).string == "a")
    }

    @Test("returns a final line without newline at end of input")
    func finalLineWithoutNewline() {
        #expect(lines(["x\nlast"]) == ["x\n", "<eof>last"])
        #expect(lines(["x\n"]) == ["x\n"])
    }

    @Test("throws once for an overlong line, drops it up to its newline, then carries on")
    func overlongLineIsDropped() throws {
        var reader = LineReader(maxLineLength: 4)
        reader.append(Bytes("ok\n123456"))
        #expect(try reader.nextLine()?.string == "ok\n")
        #expect(throws: LineTooLongError(limit: 4)) { try reader.nextLine() }
        reader.append(Bytes("789"))
        #expect(try reader.nextLine() == nil)  // still discarding, no second error
        reader.append(Bytes("0\nfine\n"))
        #expect(try reader.nextLine()?.string == "fine\n")
        #expect(reader.bufferedByteCount == 0)
    }

    @Test("an overlong complete line in one chunk is refused too")
    func overlongCompleteLine() throws {
        var reader = LineReader(maxLineLength: 3)
        reader.append(Bytes("abcd\nabc\r\n"))
        #expect(throws: LineTooLongError(limit: 3)) { try reader.nextLine() }
        #expect(try reader.nextLine()?.string == "abc\r\n")
    }

    @Test("a line of exactly the maximum, CRLF included, is accepted across reads")
    func exactMaximumAccepted() throws {
        var reader = LineReader(maxLineLength: 3)
        reader.append(Bytes("abc\r"))
        #expect(try reader.nextLine() == nil)
        reader.append(Bytes("\n"))
        #expect(try reader.nextLine()?.string == "abc\r\n")
    }

    @Test("buffered memory stays bounded while discarding a huge line")
    func discardingIsBounded() throws {
        var reader = LineReader(maxLineLength: 100)
        var errors = 0
        for _ in 0..<1000 {
            reader.append(Bytes(String(repeating: "z", count: 1000)))
            do { _ = try reader.nextLine() } catch { errors += 1 }
            #expect(reader.bufferedByteCount <= 1100)
        }
        #expect(errors == 1)
    }
}
