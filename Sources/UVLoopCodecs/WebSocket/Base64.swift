/// Standard base64 (RFC 4648 §4, with padding), for WebSocket keys.
public enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// The base64 text of `bytes`.
    public static func encode(_ bytes: [UInt8]) -> String {
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index < bytes.count {
            let first = bytes[index]
            let second = index + 1 < bytes.count ? bytes[index + 1] : 0
            let third = index + 2 < bytes.count ? bytes[index + 2] : 0
            output.append(alphabet[Int(first >> 2)])
            output.append(alphabet[Int((first & 0x3) << 4 | second >> 4)])
            output.append(index + 1 < bytes.count ? alphabet[Int((second & 0xF) << 2 | third >> 6)] : UInt8(ascii: "="))
            output.append(index + 2 < bytes.count ? alphabet[Int(third & 0x3F)] : UInt8(ascii: "="))
            index += 3
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// The bytes of padded base64 `text`, or nil if it is not canonical base64.
    public static func decode(_ text: String) -> [UInt8]? {
        let input = Array(text.utf8)
        guard input.count % 4 == 0 else { return nil }
        var output: [UInt8] = []
        var index = 0
        while index < input.count {
            var values: [UInt8] = []
            var padding = 0
            for offset in 0..<4 {
                let character = input[index + offset]
                if character == UInt8(ascii: "=") {
                    // Padding only at the end, in the last two places.
                    guard index + 4 == input.count, offset >= 2 else { return nil }
                    padding += 1
                    values.append(0)
                } else {
                    guard padding == 0, let value = alphabet.firstIndex(of: character) else { return nil }
                    values.append(UInt8(value))
                }
            }
            output.append(values[0] << 2 | values[1] >> 4)
            if padding < 2 { output.append(values[1] << 4 | values[2] >> 2) }
            if padding < 1 { output.append(values[2] << 6 | values[3]) }
            index += 4
        }
        return output
    }
}
