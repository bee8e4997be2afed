// libFuzzer target: the chat command parser (ChatInput) and the name rules (Nickname), on
// arbitrary bytes decoded as the server decodes a line (invalid UTF-8 becomes U+FFFD).
//
// Checked for every input: parsing never traps and is deterministic; a blank line is
// `.nothing` and nothing else is; `//x` is the message `/x`; a line starting with `/` is a
// command whose word is the line's first white-space-free run, lowercased for the known
// commands, with its argument trimmed and taken from the line; any other line is the message
// as typed. Every `/nick` argument goes through `Nickname.problem(with:)`, which must accept
// only 1 to 32 scalars without white space, and whose verdict must not depend on case.

import ChatProtocol

func chatInputFuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let input = ChatInput(parsing: text)
    check(ChatInput(parsing: text) == input, "parsing is deterministic")

    let isBlank = text.allSatisfy(\.isWhitespace)
    check((input == .nothing) == isBlank, "blank line ⇔ .nothing for \(text.debugDescription)")
    if isBlank { return 0 }

    if text.hasPrefix("//") {
        check(input == .message(String(text.dropFirst())), "// escapes a slash")
    } else if text.hasPrefix("/") {
        guard case .command(let command) = input else { fail("a line starting with / is a command: \(text.debugDescription)") }
        let word = String(text.prefix { !$0.isWhitespace })
        let rest = text.dropFirst(word.count)
        switch command {
        case .nick(let argument), .me(let argument):
            check(word.lowercased() == (command == .nick(argument) ? "/nick" : "/me"), "command word")
            checkTrimmed(argument, from: rest)
            if case .nick = command { checkName(argument) }
        case .who: check(word.lowercased() == "/who", "/who")
        case .help: check(word.lowercased() == "/help", "/help")
        case .quit: check(word.lowercased() == "/quit", "/quit")
        case .unknown(let typed):
            check(typed == word, "unknown command keeps the word as typed")
            check(!["/nick", "/me", "/who", "/help", "/quit"].contains(word.lowercased()), "known word parsed as unknown")
        }
    } else {
        check(input == .message(text), "plain text is a message as typed")
    }
    // Any line may be tried as a name too (the parser hands names over unvalidated).
    checkName(text)
    return 0
}

/// The argument is the rest of the line without surrounding white space.
func checkTrimmed(_ argument: String, from rest: Substring) {
    check(argument.first.map { !$0.isWhitespace } ?? true, "argument has no leading white space")
    check(argument.last.map { !$0.isWhitespace } ?? true, "argument has no trailing white space")
    check(argument.isEmpty == rest.allSatisfy(\.isWhitespace), "argument empty only for a blank rest")
    check(argument.isEmpty || rest.contains(argument), "argument comes from the line")
}

/// Nickname's verdict agrees with its documented rules.
func checkName(_ name: String) {
    let problem = Nickname.problem(with: name)
    let scalars = name.unicodeScalars
    if problem == nil {
        check(!scalars.isEmpty && scalars.count <= Nickname.maxLength, "accepted name length \(scalars.count)")
        check(!scalars.contains { $0.properties.isWhitespace }, "accepted name with white space")
        check(!scalars.contains { $0.value < 0x20 || (0x7F..<0xA0).contains($0.value) || $0 == "\u{FFFD}" }, "accepted a control or U+FFFD")
        check(Nickname.key(name) == Nickname.key(Nickname.key(name)), "key is stable")
    }
    if scalars.isEmpty { check(problem == .empty, "empty name") }
    if scalars.count > Nickname.maxLength && problem == nil { fail("long name accepted") }
}

func check(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() { fail(message()) }
}

func fail(_ message: String) -> Never {
    fatalError("ChatInputFuzz: \(message)")
}
