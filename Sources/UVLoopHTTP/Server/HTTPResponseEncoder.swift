/// Writes response heads: status line, `Date`, the response's fields, framing and
/// `Connection`, as one new buffer (with the body after it, when it is small, so that both go
/// out as one piece).
enum HTTPResponseEncoder {
    static func head(
        _ response: HTTPServerResponse, server: HTTPServer, contentLength: Int?, isChunked: Bool, version: HTTPVersion,
        keepAlive: Bool, appending body: Bytes = Bytes(), appendingText text: String = ""
    ) -> Bytes {
        switch response.knownFields {
        case .none:
            return head(
                response.status, fields: "", server: server, contentLength: contentLength, isChunked: isChunked,
                version: version, keepAlive: keepAlive, body: body, text: text)
        case .textPlain:
            return head(
                response.status, fields: "Content-Type: text/plain; charset=utf-8\r\n", server: server,
                contentLength: contentLength, isChunked: isChunked, version: version, keepAlive: keepAlive, body: body,
                text: text)
        case .other:
            break
        }
        // The scratch writer is moved out and back, so that the appends below are not each
        // an access to the server's stored property.
        var writer = server.takeHeadWriter()
        defer { server.headWriter = writer }
        writer.reset()
        if response.status.code == 200 {
            writer.append("HTTP/1.1 200 OK\r\n")
        } else {
            writer.appendStatusLine(status: response.status.code, reason: response.status.reasonPhrase)
        }
        writer.append(server.date.line)
        if let name = server.configuration.serverName { writer.appendField("Server", name) }
        for field in response.headerFields where field.name != .contentLength && field.name != .transferEncoding {
            writer.appendField(field.name.rawName, field.value)
        }
        if isChunked {
            writer.append("Transfer-Encoding: chunked\r\n")
        } else if let contentLength {
            writer.append("Content-Length: ")
            writer.appendDecimal(contentLength)
            writer.append("\r\n")
        }
        if !keepAlive {
            writer.append("Connection: close\r\n")
        } else if version.minor == 0 {
            writer.append("Connection: keep-alive\r\n")
        }
        writer.appendEnd()
        if !text.isEmpty { writer.append(text) }
        return writer.bytes(appending: body)
    }

    /// The head of a response whose fields are constant (``HTTPServerResponse/knownFields``),
    /// written straight into the buffer that goes out: no scratch copy, no field iteration.
    private static func head(
        _ status: HTTPResponse.Status, fields: StaticString, server: HTTPServer, contentLength: Int?, isChunked: Bool,
        version: HTTPVersion, keepAlive: Bool, body: Bytes, text: String
    ) -> Bytes {
        let code = status.code
        let reason = code == 200 ? "" : status.reasonPhrase
        let serverName = server.configuration.serverName
        let date = server.date.line
        // The exact size (a larger buffer would stay allocated while the response is queued).
        var capacity = date.count + fields.utf8CodeUnitCount + 2 + body.count + text.utf8.count
        capacity += code == 200 ? 17 : 12 + HeadCursor.decimalCount(code) + reason.utf8.count
        if let serverName { capacity += 10 + serverName.utf8.count }
        if isChunked {
            capacity += 28
        } else if let contentLength {
            capacity += 18 + HeadCursor.decimalCount(contentLength)
        }
        if !keepAlive {
            capacity += 19
        } else if version.minor == 0 {
            capacity += 24
        }
        let storage = ByteStorage.make(capacity: capacity)
        let count = storage.withBase { base in
            var out = HeadCursor(base)
            if code == 200 {
                out.append("HTTP/1.1 200 OK\r\n")
            } else {
                out.append("HTTP/1.1 ")
                out.appendDecimal(code)
                out.append(" ")
                out.append(reason)
                out.append("\r\n")
            }
            out.append(date)
            if let serverName {
                out.append("Server: ")
                out.append(serverName)
                out.append("\r\n")
            }
            out.append(fields)
            if isChunked {
                out.append("Transfer-Encoding: chunked\r\n")
            } else if let contentLength {
                out.append("Content-Length: ")
                out.appendDecimal(contentLength)
                out.append("\r\n")
            }
            if !keepAlive {
                out.append("Connection: close\r\n")
            } else if version.minor == 0 {
                out.append("Connection: keep-alive\r\n")
            }
            out.append("\r\n")
            out.append(body)
            out.append(text)
            assert(out.count == capacity, "the head's size was miscounted")
            return out.count
        }
        return Bytes(storage: storage, offset: 0, count: count)
    }
}

/// Appends to memory the caller sized; used only inside ``HTTPResponseEncoder``'s bound.
private struct HeadCursor {
    let base: UnsafeMutableRawPointer
    var count = 0

    init(_ base: UnsafeMutableRawPointer) { self.base = base }

    mutating func append(_ text: StaticString) {
        (base + count).copyMemory(from: text.utf8Start, byteCount: text.utf8CodeUnitCount)
        count += text.utf8CodeUnitCount
    }

    mutating func append(_ text: String) {
        // Cheapest of those measured (callgrind): no copy of the string value, whose release
        // `withUTF8` on a `var` costs, and no element-wise loop over a small string's UTF-8.
        let done: Void? = text.utf8.withContiguousStorageIfAvailable { append(UnsafeRawBufferPointer($0)) }
        if done == nil {
            var text = text
            text.withUTF8 { append(UnsafeRawBufferPointer($0)) }
        }
    }

    mutating func append(_ bytes: Bytes) {
        bytes.withUnsafeBytes { append($0) }
    }

    mutating func append(_ buffer: UnsafeRawBufferPointer) {
        guard let source = buffer.baseAddress, buffer.count > 0 else { return }
        (base + count).copyMemory(from: source, byteCount: buffer.count)
        count += buffer.count
    }

    /// The bytes ``appendDecimal(_:)`` writes for `value`: at most 20.
    static func decimalCount(_ value: Int) -> Int {
        let rest = value.magnitude
        // Int.min's magnitude has 19 digits; 10^19 still fits a UInt.
        var digits = 1
        var scale: UInt = 10
        while digits < 19 && rest >= scale {
            digits += 1
            scale *= 10
        }
        return value < 0 ? digits + 1 : digits
    }

    mutating func appendDecimal(_ value: Int) {
        var rest = value.magnitude
        var digits = Self.decimalCount(value)
        if value < 0 {
            base.storeBytes(of: 0x2D, toByteOffset: count, as: UInt8.self)
            count += 1
            digits -= 1
        }
        var position = count + digits
        repeat {
            position -= 1
            base.storeBytes(of: UInt8(rest % 10) + 0x30, toByteOffset: position, as: UInt8.self)
            rest /= 10
        } while rest > 0
        count += digits
    }
}
