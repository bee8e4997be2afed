/// What a line typed by a participant asks for: a message to relay, a command, or nothing.
///
/// Parsing is pure: `ChatInput(parsing: "/nick alice")` is `.command(.nick("alice"))`. The text
/// given has no line terminator; messages and actions come back as typed, to be sanitised
/// before they are relayed, and names to be checked by ``Nickname``.
public enum ChatInput: Sendable, Equatable {
    /// Text to relay to everyone else. A line starting with `//` is a message starting with `/`.
    case message(String)
    /// A line starting with `/`.
    case command(Command)
    /// A blank line: nothing to do.
    case nothing

    /// The commands, `/word` then an argument; the word is case-insensitive.
    public enum Command: Sendable, Equatable {
        /// `/nick NAME`: the name as typed, surrounding white space removed (may be empty or invalid).
        case nick(String)
        /// `/who`: list the participants.
        case who
        /// `/me ACTION`: the action, surrounding white space removed (may be empty).
        case me(String)
        /// `/help`.
        case help
        /// `/quit`: say goodbye and close.
        case quit
        /// Any other `/word`, as typed.
        case unknown(String)
    }

    /// Parses one line of text.
    public init(parsing text: String) {
        if text.allSatisfy(\.isWhitespace) {
            self = .nothing
        } else if text.hasPrefix("//") {
            self = .message(String(text.dropFirst()))
        } else if text.hasPrefix("/") {
            let word = text.prefix { !$0.isWhitespace }
            let argument = text.dropFirst(word.count).trimmingWhitespace()
            switch word.lowercased() {
            case "/nick": self = .command(.nick(argument))
            case "/who": self = .command(.who)
            case "/me": self = .command(.me(argument))
            case "/help": self = .command(.help)
            case "/quit": self = .command(.quit)
            default: self = .command(.unknown(String(word)))
            }
        } else {
            self = .message(text)
        }
    }
}

extension Substring {
    /// The text without leading and trailing white space.
    fileprivate func trimmingWhitespace() -> String {
        guard let first = firstIndex(where: { !$0.isWhitespace }),
            let last = lastIndex(where: { !$0.isWhitespace })
        else { return "" }
        return String(self[first...last])
    }
}
