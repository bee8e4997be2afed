/// Checks UTF-8 incrementally, chunk by chunk, failing at the first byte that cannot start or
/// continue a well-formed sequence (RFC 3629: no overlong forms, no surrogates, at most U+10FFFF).
///
/// A sequence may be split across chunks (a text message across fragments); ``isComplete`` says
/// whether the bytes so far end on a character boundary.
///
/// ```swift
/// var validator = UTF8Validator()
/// guard validator.validate(chunk) else { throw ... }   // fails fast, mid-fragment
/// guard validator.isComplete else { throw ... }        // at the end of the message
/// ```
public struct UTF8Validator: Sendable {
    /// Continuation bytes still expected by the current sequence.
    private var remaining = 0
    /// The range the next continuation byte must lie in (narrower after E0, ED, F0, F4).
    private var lower: UInt8 = 0x80
    private var upper: UInt8 = 0xBF
    /// Once false, stays false.
    public private(set) var isValid = true

    /// A validator at the start of a text.
    public init() {}

    /// True if every byte so far is valid and no sequence is left unfinished.
    public var isComplete: Bool { isValid && remaining == 0 }

    /// Validates the next chunk; false as soon as a byte cannot be part of valid UTF-8.
    public mutating func validate(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard isValid else { return false }
        var index = 0
        let count = bytes.count
        while index < count {
            // ASCII runs go eight bytes at a time.
            if remaining == 0 {
                while index + 8 <= count && bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
                    index += 8
                }
                if index == count { break }
            }
            let byte = bytes[index]
            index += 1
            if remaining == 0 {
                if byte < 0x80 { continue }
                switch byte {
                case 0xC2...0xDF: remaining = 1
                case 0xE0: (remaining, lower) = (2, 0xA0)
                case 0xE1...0xEC, 0xEE, 0xEF: remaining = 2
                case 0xED: (remaining, upper) = (2, 0x9F)
                case 0xF0: (remaining, lower) = (3, 0x90)
                case 0xF1...0xF3: remaining = 3
                case 0xF4: (remaining, upper) = (3, 0x8F)
                default:
                    isValid = false
                    return false
                }
            } else {
                guard byte >= lower && byte <= upper else {
                    isValid = false
                    return false
                }
                (lower, upper) = (0x80, 0xBF)
                remaining -= 1
            }
        }
        return true
    }

    /// Validates the next chunk of `bytes`.
    public mutating func validate(_ bytes: Bytes) -> Bool {
        bytes.withUnsafeBytes { validate($0) }
    }

    /// True if `bytes` is a complete, valid UTF-8 text.
    public static func isValid(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var validator = UTF8Validator()
        return validator.validate(bytes) && validator.isComplete
    }
}
