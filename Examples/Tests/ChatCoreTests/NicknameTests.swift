import ChatCore
import Testing

@Suite("Nickname")
struct NicknameTests {
    @Test(
        "accepts 1 to 32 printable characters, Unicode included",
        arguments: ["a", "alice", "Bob_2", "zoë", "日本", "a:b", String(repeating: "x", count: 32)])
    func good(name: String) {
        #expect(Nickname.problem(with: name) == nil)
    }

    @Test("refuses an empty name")
    func empty() { #expect(Nickname.problem(with: "") == .empty) }

    @Test("refuses more than 32 characters")
    func tooLong() {
        #expect(Nickname.problem(with: String(repeating: "x", count: 33)) == .tooLong)
        #expect(Nickname.problem(with: String(repeating: "é", count: 33)) == .tooLong)
    }

    @Test("refuses spaces and other white space", arguments: ["al ice", " alice", "alice\t", "a\u{00A0}b", "a\u{3000}b"])
    func whitespace(name: String) {
        #expect(Nickname.problem(with: name) == .containsSpace)
    }

    @Test(
        "refuses control, format and replacement characters",
        arguments: ["a\u{7}b", "a\u{1B}", "\u{7F}", "a\u{200B}b", "a\u{202E}b", "\u{FFFD}", "a\u{E000}"])
    func unprintable(name: String) {
        #expect(Nickname.problem(with: name) == .unprintable)
    }

    @Test("compares names ignoring case")
    func key() {
        #expect(Nickname.key("Alice") == Nickname.key("aLICE"))
        #expect(Nickname.key("alice") != Nickname.key("alicia"))
    }
}
