// libFuzzer target: TextSanitizer.clean on arbitrary bytes, against an independent model.
//
// The model decodes UTF-8 with its own decoder, replacing each maximal invalid subpart with
// U+FFFD (the Unicode "best practice" that Python's decode("utf-8", "replace") and WHATWG
// follow), then drops C0 controls but tab, DEL and C1 controls. `clean` must give exactly
// that, on both of its entry points (bytes and string); its result must contain no control
// character but tab, and cleaning it again must change nothing.

import ChatProtocol
import UVLoopCodecs

func textSanitizerFuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    let cleaned = TextSanitizer.clean(Bytes(input))
    let expected = referenceClean(input)
    check(Array(cleaned.unicodeScalars) == expected, "clean(bytes) differs from the model for \(input)")
    check(TextSanitizer.clean(String(decoding: input, as: UTF8.self)) == cleaned, "clean(string) differs from clean(bytes)")
    check(!cleaned.unicodeScalars.contains(where: TextSanitizer.isControl), "a control character survived")
    check(TextSanitizer.clean(cleaned) == cleaned, "clean is not idempotent")
    check(TextSanitizer.clean(Bytes(Array(cleaned.utf8))) == cleaned, "clean of the clean bytes changed them")
    return 0
}

/// Decodes UTF-8, one U+FFFD per maximal invalid subpart, then drops the control characters.
func referenceClean(_ bytes: [UInt8]) -> [Unicode.Scalar] {
    referenceDecode(bytes).filter { scalar in
        let value = scalar.value
        return value == 0x09 || !(value < 0x20 || (0x7F...0x9F).contains(value))
    }
}

/// The WHATWG UTF-8 decoder (encoding.spec.whatwg.org, "UTF-8 decoder"), replacement mode.
func referenceDecode(_ bytes: [UInt8]) -> [Unicode.Scalar] {
    var output: [Unicode.Scalar] = []
    var codePoint: UInt32 = 0
    var needed = 0
    var seen = 0
    var lower: UInt8 = 0x80
    var upper: UInt8 = 0xBF
    var index = 0
    while index < bytes.count {
        let byte = bytes[index]
        if needed == 0 {
            switch byte {
            case 0x00...0x7F: output.append(Unicode.Scalar(byte))
            case 0xC2...0xDF:
                needed = 1
                codePoint = UInt32(byte & 0x1F)
            case 0xE0...0xEF:
                if byte == 0xE0 { lower = 0xA0 }
                if byte == 0xED { upper = 0x9F }
                needed = 2
                codePoint = UInt32(byte & 0x0F)
            case 0xF0...0xF4:
                if byte == 0xF0 { lower = 0x90 }
                if byte == 0xF4 { upper = 0x8F }
                needed = 3
                codePoint = UInt32(byte & 0x07)
            default: output.append("\u{FFFD}")
            }
            index += 1
            continue
        }
        if !(lower...upper).contains(byte) {
            // Not a continuation: the sequence so far is one error; reprocess this byte.
            codePoint = 0
            needed = 0
            seen = 0
            lower = 0x80
            upper = 0xBF
            output.append("\u{FFFD}")
            continue
        }
        lower = 0x80
        upper = 0xBF
        codePoint = (codePoint << 6) | UInt32(byte & 0x3F)
        seen += 1
        index += 1
        if seen == needed {
            // Force-unwrap: the ranges above admit only scalar values (no surrogates, ≤ U+10FFFF).
            output.append(Unicode.Scalar(codePoint)!)
            codePoint = 0
            needed = 0
            seen = 0
        }
    }
    if needed != 0 { output.append("\u{FFFD}") }
    return output
}

func check(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() { fatalError("TextSanitizerFuzz: \(message())") }
}
