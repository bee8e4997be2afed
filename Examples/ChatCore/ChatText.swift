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

    /// Tells everyone that lines from the room's other processes may have been lost (the
    /// federation's Redis restarted, or the stream was trimmed before this process read it).
    public static let historyMayBeMissing = line("* Some messages from the other servers may be missing.")

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

    /// The answer to `/who`: the names of the first participants in order of arrival, out of
    /// `total` present; when that is not all of them, says how many more there are.
    public static func who(_ names: [String], of total: Int) -> Bytes {
        let listed = names.joined(separator: ", ")
        guard total > names.count else { return line("In the room (\(total)): \(listed)") }
        return line(
            "In the room (\(grouped(total))): \(listed) and \(grouped(total - names.count)) more (the first \(names.count) to arrive)")
    }

    /// A large room's summary of the joins and departures in the last `interval`, with how
    /// many are present now: `1,234 joined and 56 left in the last second (19,000 here)`.
    ///
    /// It starts with a number and has no `:` after its first word, so no participant's line
    /// (`name: text` or `* name action`) can look like it.
    public static func summary(joined: Int, left: Int, present: Int, interval: Duration) -> Bytes {
        let what =
            switch (joined > 0, left > 0) {
            case (true, true): "\(grouped(joined)) joined and \(grouped(left)) left"
            case (true, false): "\(grouped(joined)) joined"
            default: "\(grouped(left)) left"
            }
        return line("\(what) in the last \(describe(interval)) (\(grouped(present)) here)")
    }

    /// `19000` as `19,000`.
    static func grouped(_ number: Int) -> String {
        let digits = String(number.magnitude)
        var result = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { result.append(",") }
            result.append(digit)
        }
        return number < 0 ? "-" + result : result
    }

    /// `second`, `2 seconds`, `0.5 seconds`.
    private static func describe(_ interval: Duration) -> String {
        let seconds = seconds(interval)
        return seconds == "1" ? "second" : "\(seconds) seconds"
    }

    /// A duration in seconds, without a fraction when it is whole.
    private static func seconds(_ duration: Duration) -> String {
        let (whole, fraction) = duration.components
        return fraction == 0 ? "\(whole)" : "\(Double(whole) + Double(fraction) / 1e18)"
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
        line("You sent nothing for \(seconds(timeout)) seconds, so you were disconnected.")
    }

    /// Sent to a connection over the participant cap before closing it.
    public static func roomFull(limit: Int) -> Bytes {
        line("Sorry, the room is full (\(limit) participants). Please try again later.")
    }

    /// Sent to everyone when the server shuts down.
    public static let shuttingDown = line("The server is shutting down. Goodbye!")

    private static func line(_ text: String) -> Bytes { Bytes(text + "\n") }
}
