import UVLoop

/// Every line the server writes to participants, in one place; each ends with a newline.
///
/// Chat lines are `name: text` and actions `* name action`; notices about the room name the
/// participant first (`guest-3 joined`, `alice left`); replies to one participant are sentences.
public enum ChatText {
    /// Sent to a newcomer: their name and where to find the commands.
    public static func welcome(_ name: String) -> Bytes {
        line("Welcome to the chat! You are \(name). Type /help for the commands.")
    }

    /// Tells the others someone arrived.
    public static func joined(_ name: String) -> Bytes { line("\(name) joined") }

    /// Tells the others someone left, and why if it was not their own doing.
    public static func left(_ name: String, _ departure: Departure) -> Bytes {
        switch departure {
        case .quit, .closed, .shutdown: line("\(name) left")
        case .idle: line("\(name) left (idle too long)")
        case .tooSlow: line("\(name) left (not reading; disconnected)")
        case .failed: line("\(name) left (connection lost)")
        }
    }

    /// A chat line as the others see it.
    public static func chat(_ name: String, _ text: String) -> Bytes { line("\(name): \(text)") }

    /// A `/me` action as the others see it.
    public static func action(_ name: String, _ text: String) -> Bytes { line("* \(name) \(text)") }

    /// Tells the others about a rename.
    public static func renamed(from old: String, to new: String) -> Bytes { line("\(old) is now known as \(new)") }

    /// Confirms a rename to the participant who asked.
    public static func youAreNow(_ name: String) -> Bytes { line("You are now known as \(name).") }

    /// Why a `/nick` was refused; nothing changed.
    public static func nickRefused(_ refusal: RenameRefusal, asked: String, current: String) -> Bytes {
        switch refusal {
        case .taken: line("The name \(asked) is taken; you are still \(current).")
        case .unchanged: line("You are already \(current).")
        case .invalid(.empty): line("Usage: /nick NAME (1 to \(Nickname.maxLength) printable characters, no spaces).")
        case .invalid(.tooLong):
            line("That name is too long: names are 1 to \(Nickname.maxLength) characters. You are still \(current).")
        case .invalid(.containsSpace): line("Names cannot contain spaces. You are still \(current).")
        case .invalid(.unprintable):
            line("Names can only contain printable characters. You are still \(current).")
        }
    }

    /// The answer to `/who`: every participant's name, in order of arrival.
    public static func who(_ names: [String]) -> Bytes {
        line("In the room (\(names.count)): \(names.joined(separator: ", "))")
    }

    /// The answer to `/help`.
    public static let help = line(
        "Commands: /nick NAME (change your name), /who (list who is here), /me ACTION (say what you do), "
            + "/help (this list), /quit (leave). Any other line goes to everyone; start it with // to send a line beginning with /."
    )

    /// Sent before closing on `/quit`.
    public static func goodbye(_ name: String) -> Bytes { line("Goodbye, \(name)!") }

    /// The reply to an unknown `/word`; nothing was sent to the room.
    public static func unknownCommand(_ word: String) -> Bytes {
        line("Unknown command \(word); nothing was sent. Type /help for the commands, or start a line with // to send it as it is.")
    }

    /// The reply to `/me` without an action.
    public static let meUsage = line("Usage: /me ACTION, for example /me waves.")

    /// The reply to a line over the cap; the line was dropped.
    public static func lineTooLong(limit: Int) -> Bytes {
        line("Your line was longer than \(limit) bytes, so it was not sent.")
    }

    /// The one notice of a burst of lines over the flood limit.
    public static func flooding(rate: Double, burst: Int) -> Bytes {
        let perSecond = rate == rate.rounded() ? String(Int(rate)) : String(rate)
        return line(
            "You are sending too fast (at most \(perSecond) lines a second, \(burst) at once): "
                + "your lines are being dropped until you slow down.")
    }

    /// Sent before closing an idle connection.
    public static func idle(_ timeout: Duration) -> Bytes {
        let (whole, fraction) = timeout.components
        let seconds = fraction == 0 ? "\(whole)" : "\(Double(whole) + Double(fraction) / 1e18)"
        return line("You sent nothing for \(seconds) seconds, so you were disconnected.")
    }

    /// Sent to a connection over the participant cap before closing it.
    public static func roomFull(limit: Int) -> Bytes {
        line("Sorry, the room is full (\(limit) participants). Please try again later.")
    }

    /// Sent to everyone when the server shuts down.
    public static let shuttingDown = line("The server is shutting down. Goodbye!")

    private static func line(_ text: String) -> Bytes { Bytes(text + "\n") }
}
