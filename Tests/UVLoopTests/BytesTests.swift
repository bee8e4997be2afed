import Testing
import UVLoop

@Suite("Bytes")
struct BytesTests {
    @Test("slices share storage and compare by content")
    func slicing() {
        let bytes: Bytes = "hello world"
        let world = bytes.slice(6..<11)
        #expect(world.string == "world")
        #expect(world == Bytes("world"))
        #expect(world.count == 5)
        #expect(Array(world) == Array("world".utf8))
        #expect(bytes.firstIndex(of: UInt8(ascii: " ")) == 5)
        #expect(world.firstIndex(of: UInt8(ascii: "h")) == nil)
    }

    @Test("concatenation and invalid UTF-8 decoding")
    func concatenationAndDecoding() {
        #expect((Bytes("ab") + Bytes("cd")).string == "abcd")
        #expect(Bytes([0x61, 0xFF, 0x62]).string == "a\u{FFFD}b")
        #expect(Bytes().count == 0)
    }
}
