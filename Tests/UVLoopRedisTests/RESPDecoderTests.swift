import Testing
import UVLoop

@Suite("RESPDecoder")
struct RESPDecoderTests {
    /// Every reply type, nested, as Redis sends them.
    static let sample: [UInt8] = Array(
        ("+OK\r\n-WRONGTYPE Operation against a key holding the wrong kind of value\r\n:0\r\n:-42\r\n:9223372036854775807\r\n"
            + "$5\r\nhello\r\n$0\r\n\r\n$-1\r\n*-1\r\n*0\r\n*3\r\n$7\r\nmessage\r\n$4\r\nchat\r\n$4\r\na\r\nb\r\n"
            + "*2\r\n*2\r\n:1\r\n*1\r\n+deep\r\n$-1\r\n").utf8)

    static let expected: [RESPValue] = [
        .simpleString("OK"), .error("WRONGTYPE Operation against a key holding the wrong kind of value"), .integer(0), .integer(-42),
        .integer(Int64.max), .bulkString("hello"), .bulkString(""), .bulkString(nil), .array(nil), .array([]),
        .array([.bulkString("message"), .bulkString("chat"), .bulkString("a\r\nb")]),
        .array([.array([.integer(1), .array([.simpleString("deep")])]), .bulkString(nil)]),
    ]

    static func decodeAll(_ chunks: [[UInt8]], limits: RESPDecoder.Limits = RESPDecoder.Limits()) throws -> [RESPValue] {
        var decoder = RESPDecoder(limits: limits)
        var replies: [RESPValue] = []
        for chunk in chunks {
            decoder.append(Bytes(chunk))
            while let reply = try decoder.next() { replies.append(reply) }
        }
        #expect(decoder.isAtReplyBoundary)
        return replies
    }

    @Test("decodes every RESP2 type, nested arrays and both nulls, in one chunk")
    func everyType() throws {
        #expect(try Self.decodeAll([Self.sample]) == Self.expected)
    }

    @Test("decodes identically when split at any one byte, and byte by byte")
    func anySplit() throws {
        for split in 0...Self.sample.count {
            let replies = try Self.decodeAll([Array(Self.sample[..<split]), Array(Self.sample[split...])])
            #expect(replies == Self.expected, "split at \(split)")
        }
        #expect(try Self.decodeAll(Self.sample.map { [$0] }) == Self.expected)
    }

    @Test("re-encoding the decoded replies gives back the input exactly")
    func reencode() throws {
        var output: [UInt8] = []
        for reply in Self.expected { RESPEncoder.append(reply, to: &output) }
        #expect(output == Self.sample)
    }

    @Test("a bulk string inside one chunk shares its storage; one split across chunks is whole")
    func bulkAcrossChunks() throws {
        let body = [UInt8](repeating: 0x61, count: 100_000)
        let wire = Array("$100000\r\n".utf8) + body + Array("\r\n".utf8)
        var chunks: [[UInt8]] = []
        var position = 0
        while position < wire.count {
            chunks.append(Array(wire[position..<min(wire.count, position + 4096)]))
            position += 4096
        }
        #expect(try Self.decodeAll(chunks) == [.bulkString(Bytes(body))])
    }

    @Test(
        "limits: over-long bulk, over-long array, too deep, over-long line",
        arguments: [
            ("$11\r\n", "bulk string of 11 bytes exceeds the limit of 10"),
            ("*5\r\n", "array of 5 elements exceeds the limit of 4"),
            ("*1\r\n*1\r\n*1\r\n", "arrays nested deeper than the limit of 2"),
            ("+0123456789abcdefg", "line longer than the limit of 16 bytes"),
        ])
    func limits(input: String, reason: String) throws {
        let limits = RESPDecoder.Limits(maxBulkLength: 10, maxArrayCount: 4, maxDepth: 2, maxLineLength: 16)
        var decoder = RESPDecoder(limits: limits)
        decoder.append(Bytes(input))
        #expect(throws: RESPProtocolError(reason)) { try decoder.next() }
        decoder.append("+OK\r\n")
        #expect(throws: RESPProtocolError(reason), "a failed decoder stays failed") { try decoder.next() }
    }

    @Test(
        "rejects what Redis never sends",
        arguments: [
            ("+OK\n", "line ends in LF without CR"),
            (":007\r\n", "malformed integer \"007\""),
            (":-0\r\n", "malformed integer \"-0\""),
            (":+1\r\n", "malformed integer \"+1\""),
            (":9223372036854775808\r\n", "malformed integer \"9223372036854775808\""),
            ("$3\r\nabcd\r\n", "bulk string not followed by CRLF (found 'd' 0xd)"),
            ("$-2\r\n", "negative bulk string length -2"),
            ("HTTP/1.1 400 Bad Request\r\n", "unknown reply type byte 'H'"),
            ("\r\n", "empty line where a reply type was expected"),
        ])
    func rejects(input: String, reason: String) throws {
        var decoder = RESPDecoder()
        decoder.append(Bytes(input))
        #expect(throws: RESPProtocolError(reason)) { try decoder.next() }
    }

    @Test("an announced size allocates nothing until the bytes arrive")
    func announcedSizeIsNotTrusted() throws {
        var decoder = RESPDecoder()
        decoder.append("*1000000\r\n$536870912\r\nabc")
        #expect(try decoder.next() == nil)
        #expect(decoder.bufferedByteCount == 3)
        #expect(!decoder.isAtReplyBoundary)
    }
}
