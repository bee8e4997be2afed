import UVLoopCodecs

/// Makes text from an untrusted peer safe to show on someone else's terminal.
///
/// ``clean(_:)`` decodes UTF-8, replacing each invalid sequence with U+FFFD (the same
/// replacements as Python's `decode("utf-8", "replace")`), then removes every control character
/// but the tab: C0 (`0x00`–`0x1F`: escape sequences start with ESC, the bell, NUL, a stray CR),
/// DEL (`0x7F`) and C1 (U+0080–U+009F, which some terminals also obey). What is left can be
/// printed without moving the cursor, ringing a bell or changing colours, and is valid UTF-8.
///
/// ```swift
/// let line = try await client.readLineBytes()!                    // "\u{1B}[31mred\u{07}\r\n"
/// let text = TextSanitizer.clean(LineReader.trimmingTerminator(line))   // "[31mred"
/// ```
public enum TextSanitizer {
    /// The UTF-8 text of `bytes`, invalid sequences replaced by U+FFFD, control characters removed.
    public static func clean(_ bytes: Bytes) -> String {
        let isPlainASCII = bytes.withUnsafeBytes { buffer in
            buffer.allSatisfy { ($0 >= 0x20 && $0 < 0x7F) || $0 == 0x09 }
        }
        if isPlainASCII { return bytes.string }
        return clean(bytes.string)
    }

    /// `text` without its control characters (tab kept).
    public static func clean(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var kept = String.UnicodeScalarView()
        for scalar in text.unicodeScalars where !isControl(scalar) { kept.append(scalar) }
        return String(kept)
    }

    /// True for the characters ``clean(_:)`` removes: C0 controls but tab, DEL, C1 controls.
    public static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09: false
        case 0x00..<0x20, 0x7F..<0xA0: true
        default: false
        }
    }
}
