import Testing
import UVLoop

@Suite("RESPEncoder")
struct RESPEncoderTests {
    @Test("a command is an array of bulk strings")
    func command() {
        let bytes = RESPEncoder.commandBytes(["SET", "key", Bytes("a\r\nb"), ""])
        #expect(bytes.string == "*4\r\n$3\r\nSET\r\n$3\r\nkey\r\n$4\r\na\r\nb\r\n$0\r\n\r\n")
        #expect(RESPEncoder.command(["SET", "key", Bytes("a\r\nb"), ""]) == [bytes])
    }

    @Test("large arguments are passed through without a copy, between buffers of the rest")
    func largeArguments() throws {
        let large = Bytes([UInt8](repeating: 0x78, count: RESPEncoder.largeArgumentLength))
        let arguments: [Bytes] = ["XADD", large, "*", large]
        let chunks = RESPEncoder.command(arguments)
        #expect(chunks.count == 5)
        #expect(chunks[1].storage === large.storage && chunks[3].storage === large.storage)
        let joined = chunks.reduce(Bytes(), +)
        #expect(joined == RESPEncoder.commandBytes(arguments))
        var decoder = RESPDecoder()
        decoder.append(joined)
        #expect(try decoder.next() == .array(arguments.map { .bulkString($0) }))
    }

    @Test("an empty command and one large argument alone")
    func edges() {
        #expect(RESPEncoder.command([]).reduce(Bytes(), +).string == "*0\r\n")
        let large = Bytes([UInt8](repeating: 0x78, count: RESPEncoder.largeArgumentLength))
        #expect(RESPEncoder.command([large]).reduce(Bytes(), +) == RESPEncoder.commandBytes([large]))
    }
}
