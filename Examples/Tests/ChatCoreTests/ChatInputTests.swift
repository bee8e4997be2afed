import ChatCore
import Testing

@Suite("ChatInput")
struct ChatInputTests {
    @Test("plain text is a message, kept as typed")
    func message() {
        #expect(ChatInput(parsing: "hello there ") == .message("hello there "))
        #expect(ChatInput(parsing: "  indented") == .message("  indented"))
    }

    @Test("a blank line is nothing")
    func blank() {
        #expect(ChatInput(parsing: "") == .nothing)
        #expect(ChatInput(parsing: " \t ") == .nothing)
    }

    @Test("each command parses, with its argument trimmed")
    func commands() {
        #expect(ChatInput(parsing: "/nick alice") == .command(.nick("alice")))
        #expect(ChatInput(parsing: "/nick   alice  ") == .command(.nick("alice")))
        #expect(ChatInput(parsing: "/nick") == .command(.nick("")))
        #expect(ChatInput(parsing: "/nick al ice") == .command(.nick("al ice")))
        #expect(ChatInput(parsing: "/who") == .command(.who))
        #expect(ChatInput(parsing: "/me waves hello") == .command(.me("waves hello")))
        #expect(ChatInput(parsing: "/me") == .command(.me("")))
        #expect(ChatInput(parsing: "/help") == .command(.help))
        #expect(ChatInput(parsing: "/quit") == .command(.quit))
        #expect(ChatInput(parsing: "/quit see you") == .command(.quit))
    }

    @Test("command words ignore case; a tab separates like a space")
    func caseAndTabs() {
        #expect(ChatInput(parsing: "/NICK Bob") == .command(.nick("Bob")))
        #expect(ChatInput(parsing: "/Me\tjumps") == .command(.me("jumps")))
    }

    @Test("an unknown /word is a command, not a message")
    func unknown() {
        #expect(ChatInput(parsing: "/dance now") == .command(.unknown("/dance")))
        #expect(ChatInput(parsing: "/") == .command(.unknown("/")))
        #expect(ChatInput(parsing: "/nickname x") == .command(.unknown("/nickname")))
    }

    @Test("// sends a line that starts with /")
    func escapedSlash() {
        #expect(ChatInput(parsing: "//dance") == .message("/dance"))
        #expect(ChatInput(parsing: "// not a command") == .message("/ not a command"))
    }
}
