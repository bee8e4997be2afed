import ChatProtocol
import Testing
import UVLoop

@Suite("TextSanitizer")
struct TextSanitizerTests {
    func clean(_ bytes: [UInt8]) -> [UInt8] { Array(TextSanitizer.clean(Bytes(bytes)).utf8) }

    @Test("printable ASCII, tabs and valid UTF-8 pass unchanged")
    func keepsText() {
        #expect(TextSanitizer.clean(Bytes("hello, world ~!")) == "hello, world ~!")
        #expect(TextSanitizer.clean(Bytes("a\tb")) == "a\tb")
        #expect(TextSanitizer.clean(Bytes("café 日本 🎉")) == "café 日本 🎉")
    }

    @Test("removes C0 controls but tab, DEL and C1 controls")
    func removesControls() {
        #expect(clean(Array("\u{1B}[31mred\u{1B}[0m".utf8)) == Array("[31mred[0m".utf8))
        #expect(clean([0x61, 0x07, 0x62, 0x00, 0x63, 0x0D, 0x64, 0x7F, 0x65, 0x08, 0x0A, 0x66]) == Array("abcdef".utf8))
        #expect(clean([0x61, 0xC2, 0x9B, 0x62, 0xC2, 0x85, 0x63]) == Array("abc".utf8))  // U+009B CSI, U+0085 NEL
        #expect(clean(Array(0..<32).map(UInt8.init) + [0x7F]) == [0x09])
    }

    @Test("replaces invalid UTF-8 with U+FFFD as Python's decode(errors='replace') does")
    func replacesInvalidUTF8() {
        let fffd: [UInt8] = [0xEF, 0xBF, 0xBD]
        #expect(clean([0x61, 0xFF, 0xFE, 0x62]) == [0x61] + fffd + fffd + [0x62])
        #expect(clean([0xE2, 0x82]) == fffd)  // truncated sequence: one replacement
        #expect(clean([0xE2, 0x82, 0x41]) == fffd + [0x41])
        #expect(clean([0xED, 0xA0, 0x80]) == fffd + fffd + fffd)  // a surrogate
        #expect(clean([0xC0, 0xAF]) == fffd + fffd)  // overlong
        #expect(clean([0xE2, 0x00, 0x82]) == fffd + fffd)  // decoded first, then NUL removed
    }

    @Test("the result is always valid UTF-8 with no control byte but tab")
    func everyByteValue() {
        for first in 0...255 {
            for second in [0x00, 0x41, 0x80, 0xBF, 0xC3, 0xFF] {
                let out = clean([UInt8(first), UInt8(second), 0x7A])
                #expect(String(validating: out, as: UTF8.self) != nil)
                #expect(!out.contains { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7F })
            }
        }
    }
}
