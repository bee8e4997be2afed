/// Writes HTTP/1.1 heads and chunk frames as bytes.
///
/// ```swift
/// var head = HTTPHeadWriter()
/// head.appendStatusLine(status: 200, reason: "OK")
/// head.appendField("Content-Length", "6")
/// head.appendEnd()
/// try stream.write(head.bytes(appending: "hello\n"))
/// ```
public struct HTTPHeadWriter {
    /// The bytes written so far.
    public private(set) var buffer: [UInt8] = []

    /// An empty writer, with room for `capacity` bytes.
    public init(capacity: Int = 256) {
        buffer.reserveCapacity(capacity)
    }

    /// Empties the writer, keeping its capacity.
    public mutating func reset() {
        buffer.removeAll(keepingCapacity: true)
    }

    /// Appends `HTTP/1.1 status reason` CRLF.
    public mutating func appendStatusLine(status: Int, reason: String) {
        append("HTTP/1.1 ")
        appendDecimal(status)
        append(" ")
        append(reason)
        append("\r\n")
    }

    /// Appends `method target HTTP/1.1` CRLF.
    public mutating func appendRequestLine(method: String, target: String) {
        append(method)
        append(" ")
        append(target)
        append(" HTTP/1.1\r\n")
    }

    /// Appends `name: value` CRLF. Field values must not hold CR or LF (the caller checks:
    /// `HTTPFields` from swift-http-types already refuses them).
    public mutating func appendField(_ name: String, _ value: String) {
        append(name)
        append(": ")
        append(value)
        append("\r\n")
    }

    /// Appends the empty line that ends a head.
    public mutating func appendEnd() {
        append("\r\n")
    }

    /// Appends the UTF-8 bytes of `string`.
    public mutating func append(_ string: String) {
        var string = string
        string.withUTF8 { buffer.append(contentsOf: $0) }
    }

    /// Appends `bytes`.
    public mutating func append(_ bytes: Bytes) {
        bytes.withUnsafeBytes { buffer.append(contentsOf: $0) }
    }

    /// Appends `value` in decimal.
    public mutating func appendDecimal(_ value: Int) {
        if value < 0 {
            buffer.append(0x2D)
            appendDecimal(0 - value)
            return
        }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        var count = 0
        var rest = UInt(value)
        withUnsafeMutableBytes(of: &digits) { scratch in
            repeat {
                scratch[23 - count] = UInt8(rest % 10) + 0x30
                rest /= 10
                count += 1
            } while rest > 0
            buffer.append(contentsOf: scratch[(24 - count)...])
        }
    }

    /// The bytes written, followed by `body`, in one new buffer.
    public func bytes(appending body: Bytes = Bytes()) -> Bytes {
        let storage = ByteStorage.make(capacity: buffer.count + body.count)
        // Force-unwraps below: a buffer of more than zero bytes has a base address.
        storage.withBase { base in
            buffer.withUnsafeBytes { head in
                if head.count > 0 { base.copyMemory(from: head.baseAddress!, byteCount: head.count) }
            }
            body.withUnsafeBytes { body in
                if body.count > 0 { (base + buffer.count).copyMemory(from: body.baseAddress!, byteCount: body.count) }
            }
        }
        return Bytes(storage: storage, offset: 0, count: buffer.count + body.count)
    }
}

/// The framing of chunked bodies (RFC 9112 §7.1).
public enum HTTPChunkedEncoding {
    /// The line that starts a chunk of `count` bytes: hex size, CRLF.
    public static func chunkHeader(count: Int) -> Bytes {
        Bytes(String(count, radix: 16) + "\r\n")
    }

    /// A whole chunk: size line, `data`, CRLF, in one buffer.
    public static func chunk(_ data: Bytes) -> Bytes {
        var writer = HTTPHeadWriter(capacity: data.count + 16)
        writer.append(String(data.count, radix: 16))
        writer.append("\r\n")
        writer.append(data)
        writer.append("\r\n")
        return writer.bytes()
    }

    /// The CRLF that ends a chunk's data.
    public static let crlf: Bytes = "\r\n"

    /// The last chunk and the empty trailer section.
    public static let end: Bytes = "0\r\n\r\n"
}
