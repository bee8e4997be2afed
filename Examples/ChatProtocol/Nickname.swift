/// The rules for participants' names: 1 to 32 printable characters, no spaces.
///
/// ```swift
/// Nickname.problem(with: "alice")       // nil: a good name
/// Nickname.problem(with: "al ice")      // .containsSpace
/// ```
public enum Nickname {
    /// The longest name, in Unicode scalars (what Python's `len` counts).
    public static let maxLength = 32

    /// Why a name is not acceptable.
    public enum Problem: Sendable, Equatable {
        /// No name was given.
        case empty
        /// Longer than ``Nickname/maxLength`` characters.
        case tooLong
        /// Contains a space or other white space.
        case containsSpace
        /// Contains a control, format, private-use or unassigned character, or U+FFFD.
        case unprintable
    }

    /// What is wrong with `name`, or `nil` when it is a good name.
    public static func problem(with name: String) -> Problem? {
        let scalars = name.unicodeScalars
        if scalars.isEmpty { return .empty }
        if scalars.contains(where: { $0.properties.isWhitespace }) { return .containsSpace }
        if scalars.contains(where: { !isPrintable($0) }) { return .unprintable }
        if scalars.count > maxLength { return .tooLong }
        return nil
    }

    /// The form two names are compared in: names differing only in case are the same name.
    public static func key(_ name: String) -> String { name.lowercased() }

    private static func isPrintable(_ scalar: Unicode.Scalar) -> Bool {
        if scalar == "\u{FFFD}" { return false }
        switch scalar.properties.generalCategory {
        case .control, .format, .privateUse, .surrogate, .unassigned, .lineSeparator, .paragraphSeparator:
            return false
        default:
            return true
        }
    }
}
