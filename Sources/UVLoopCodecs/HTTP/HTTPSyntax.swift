/// Character classes and small scanners of RFC 9110/9112, over raw bytes.
enum HTTPSyntax {
    static let cr: UInt8 = 0x0D
    static let lf: UInt8 = 0x0A
    static let space: UInt8 = 0x20
    static let tab: UInt8 = 0x09
    static let colon: UInt8 = 0x3A

    /// The `tchar`s (RFC 9110 §5.6.2) below 64 and from 64 to 127, one bit each.
    private static let tokenLow: UInt64 = 0x03ff_6cfa_0000_0000
    private static let tokenHigh: UInt64 = 0x57ff_ffff_c7ff_fffe

    /// True for a `tchar`: a byte allowed in methods, field names and transfer codings.
    @inline(__always)
    static func isToken(_ byte: UInt8) -> Bool {
        // The word picked without a branch; bytes from 128 are never tokens.
        let word = byte < 64 ? tokenLow : tokenHigh
        return byte < 128 && word & (1 << UInt64(byte & 63)) != 0
    }

    /// True for a byte allowed inside a field value: VCHAR, obs-text, SP and HTAB.
    @inline(__always)
    static func isFieldValue(_ byte: UInt8) -> Bool {
        (byte >= 0x20 && byte != 0x7F) || byte == tab
    }

    /// True for a byte allowed in a request target (VCHAR).
    @inline(__always)
    static func isTarget(_ byte: UInt8) -> Bool {
        byte >= 0x21 && byte <= 0x7E
    }

    @inline(__always)
    static func isWhitespace(_ byte: UInt8) -> Bool { byte == space || byte == tab }

    @inline(__always)
    static func lowercased(_ byte: UInt8) -> UInt8 {
        byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
    }

    /// True if `bytes` equal the ASCII string `name` without regard to case.
    static func equalsIgnoringCase(_ bytes: Bytes, _ name: String) -> Bool {
        var name = name
        return name.withUTF8 { expected in
            bytes.withUnsafeBytes { actual in equalsIgnoringCase(actual, expected) }
        }
    }

    /// True if the two byte runs are equal without regard to ASCII case.
    @inline(__always)
    static func equalsIgnoringCase(_ actual: UnsafeRawBufferPointer, _ expected: UnsafeBufferPointer<UInt8>) -> Bool {
        guard actual.count == expected.count else { return false }
        for index in 0..<actual.count where lowercased(actual[index]) != lowercased(expected[index]) {
            return false
        }
        return true
    }

    /// Calls `body` with each element of a comma-separated list, without surrounding
    /// whitespace; empty elements are skipped (RFC 9110 §5.6.1).
    static func forEachListElement(
        _ buffer: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) throws(HTTPParseError) -> Void
    ) throws(HTTPParseError) {
        var start = 0
        while start <= buffer.count {
            var end = start
            while end < buffer.count && buffer[end] != 0x2C { end += 1 }
            var low = start
            var high = end
            while low < high && isWhitespace(buffer[low]) { low += 1 }
            while high > low && isWhitespace(buffer[high - 1]) { high -= 1 }
            if high > low { try body(UnsafeRawBufferPointer(rebasing: buffer[low..<high])) }
            start = end + 1
        }
    }
}

extension UnsafeRawBufferPointer {
    /// True if these bytes equal `literal` without regard to ASCII case, where `literal` holds
    /// only lowercase letters, digits and `-`, and these bytes only characters a field may hold
    /// (no control character but HTAB). Then OR-ing 0x20 into a byte lowercases a letter and
    /// maps nothing else onto a letter, digit or `-` but those characters themselves (the
    /// bytes it would also map there, 0x10...0x19 and CR, are control characters).
    @inline(__always)
    func equalsIgnoringCase(_ literal: StaticString) -> Bool {
        guard count == literal.utf8CodeUnitCount else { return false }
        let expected = literal.utf8Start
        for index in 0..<count where self[index] | 0x20 != expected[index] { return false }
        return true
    }
}
