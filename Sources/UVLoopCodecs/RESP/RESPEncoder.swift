/// Encodes RESP: commands (arrays of bulk strings) for sending, and any ``RESPValue``.
///
/// ```swift
/// let chunks = RESPEncoder.command(["SET", "greeting", Bytes("hello")])
/// for chunk in chunks { try stream.write(chunk) }
/// ```
public enum RESPEncoder {
    /// Arguments at least this long are not copied: ``command(_:)`` hands them back as chunks
    /// of their own, sharing their storage.
    public static let largeArgumentLength = 16 * 1024

    /// Encodes a command, `*N` then each argument as a bulk string, as chunks to write in order.
    ///
    /// Headers and short arguments are copied once into one buffer; arguments of
    /// ``largeArgumentLength`` bytes or more are passed through without a copy.
    public static func command(_ arguments: [Bytes]) -> [Bytes] {
        var chunks: [Bytes] = []
        var start = 0
        var afterLarge = false
        // Each run of short arguments, with the headers around it, becomes one buffer.
        for (index, argument) in arguments.enumerated() where argument.count >= largeArgumentLength {
            let countHeader = chunks.isEmpty ? arguments.count : nil
            chunks.append(frame(arguments[start..<index], leadingCRLF: afterLarge, countHeader: countHeader, lengthOfNext: argument.count))
            chunks.append(argument)
            start = index + 1
            afterLarge = true
        }
        let countHeader = chunks.isEmpty ? arguments.count : nil
        chunks.append(frame(arguments[start...], leadingCRLF: afterLarge, countHeader: countHeader, lengthOfNext: nil))
        return chunks
    }

    /// Encodes a command into one buffer (every argument copied once).
    public static func commandBytes(_ arguments: [Bytes]) -> Bytes {
        frame(arguments[...], leadingCRLF: false, countHeader: arguments.count, lengthOfNext: nil)
    }

    /// Encodes any value; `decode(encode(v)) == v`, and re-encoding a decoded reply gives back
    /// its bytes exactly.
    public static func encode(_ value: RESPValue) -> Bytes {
        var output: [UInt8] = []
        append(value, to: &output)
        return Bytes(output)
    }

    /// Appends the encoding of `value` to `output`.
    public static func append(_ value: RESPValue, to output: inout [UInt8]) {
        switch value {
        case .simpleString(let bytes):
            output.append(UInt8(ascii: "+"))
            appendLine(bytes, to: &output)
        case .error(let bytes):
            output.append(UInt8(ascii: "-"))
            appendLine(bytes, to: &output)
        case .integer(let number):
            output.append(UInt8(ascii: ":"))
            output.append(contentsOf: String(number).utf8)
            output.append(contentsOf: crlf)
        case .bulkString(nil):
            output.append(contentsOf: "$-1\r\n".utf8)
        case .bulkString(.some(let bytes)):
            output.append(UInt8(ascii: "$"))
            output.append(contentsOf: String(bytes.count).utf8)
            output.append(contentsOf: crlf)
            appendLine(bytes, to: &output)
        case .array(nil):
            output.append(contentsOf: "*-1\r\n".utf8)
        case .array(.some(let elements)):
            output.append(UInt8(ascii: "*"))
            output.append(contentsOf: String(elements.count).utf8)
            output.append(contentsOf: crlf)
            for element in elements { append(element, to: &output) }
        }
    }

    private static let crlf: [UInt8] = [0x0D, 0x0A]

    private static func appendLine(_ bytes: Bytes, to output: inout [UInt8]) {
        bytes.withUnsafeBytes { output.append(contentsOf: $0) }
        output.append(contentsOf: crlf)
    }

    /// One buffer: the CRLF that ends a large argument written before it (`leadingCRLF`), the
    /// `*N` header if this is the first buffer, the short `arguments` as bulk strings, then the
    /// `$len` header of the large argument that follows, if any. Sized exactly, written once.
    private static func frame(
        _ arguments: ArraySlice<Bytes>, leadingCRLF: Bool, countHeader: Int?, lengthOfNext: Int?
    ) -> Bytes {
        var size = leadingCRLF ? 2 : 0
        if let countHeader { size += 3 + decimalLength(countHeader) }
        for argument in arguments { size += 5 + decimalLength(argument.count) + argument.count }
        if let lengthOfNext { size += 3 + decimalLength(lengthOfNext) }
        let storage = ByteStorage.make(capacity: size)
        storage.withBase { base in
            var position = 0
            func put(_ byte: UInt8) {
                base.storeBytes(of: byte, toByteOffset: position, as: UInt8.self)
                position += 1
            }
            func putDecimal(_ value: Int) {
                let length = decimalLength(value)
                var rest = value
                for offset in stride(from: length - 1, through: 0, by: -1) {
                    base.storeBytes(of: UInt8(ascii: "0") + UInt8(rest % 10), toByteOffset: position + offset, as: UInt8.self)
                    rest /= 10
                }
                position += length
            }
            if leadingCRLF {
                put(0x0D)
                put(0x0A)
            }
            if let countHeader {
                put(UInt8(ascii: "*"))
                putDecimal(countHeader)
                put(0x0D)
                put(0x0A)
            }
            for argument in arguments {
                put(UInt8(ascii: "$"))
                putDecimal(argument.count)
                put(0x0D)
                put(0x0A)
                argument.withUnsafeBytes { bytes in
                    if let source = bytes.baseAddress, bytes.count > 0 {
                        (base + position).copyMemory(from: source, byteCount: bytes.count)
                    }
                }
                position += argument.count
                put(0x0D)
                put(0x0A)
            }
            if let lengthOfNext {
                put(UInt8(ascii: "$"))
                putDecimal(lengthOfNext)
                put(0x0D)
                put(0x0A)
            }
        }
        return Bytes(storage: storage, offset: 0, count: size)
    }

    /// The number of decimal digits of a non-negative `value`.
    private static func decimalLength(_ value: Int) -> Int {
        var length = 1
        var rest = value
        while rest >= 10 {
            rest /= 10
            length += 1
        }
        return length
    }
}
