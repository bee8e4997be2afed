#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Parses one complete head (start line through the empty line) held in one buffer, and
/// works out the framing; every rule of RFC 9112 that guards against request smuggling is
/// checked here.
enum HTTPHeadParser {
    /// The longest method accepted.
    static let maxMethodLength = 64
    /// How much longer than the target limit a start line may be (method, spaces, version).
    static let startLineSlack = 80

    /// Checks a start line (with its CRLF) as ``parse(_:kind:limits:responseHasNoBody:)``
    /// would, before the rest of its head has arrived.
    static func checkStartLine(
        _ buffer: UnsafeRawBufferPointer, kind: HTTPParser.Kind, limits: HTTPParserLimits
    ) throws(HTTPParseError) {
        var scanner = HeadScanner(head: nil, buffer: buffer, limits: limits)
        _ = try scanner.parseStartLine(kind: kind, end: buffer.count - 2)
    }

    /// The verdict on a start line with no LF in its first `maxTargetLength + startLineSlack`
    /// bytes (`buffer` holds those): what parsing the whole line would say.
    static func startLineTooLong(_ buffer: UnsafeRawBufferPointer, kind: HTTPParser.Kind, limits: HTTPParserLimits) -> HTTPParseError {
        guard kind == .request else { return HTTPParseError(.badRequest, "status line too long") }
        var index = 0
        while index < buffer.count && HTTPSyntax.isToken(buffer[index]) { index += 1 }
        guard index > 0, index <= maxMethodLength, index < buffer.count, buffer[index] == HTTPSyntax.space else {
            return HTTPParseError(.badRequest, "invalid method")
        }
        let targetStart = index + 1
        index = targetStart
        while index < buffer.count && HTTPSyntax.isTarget(buffer[index]) { index += 1 }
        if index - targetStart > limits.maxTargetLength {
            return HTTPParseError(.targetTooLong, "request target over \(limits.maxTargetLength) bytes")
        }
        return HTTPParseError(.badRequest, "invalid request target")
    }

    /// Rejects an unfinished request line whose method is already invalid (binary garbage, a
    /// TLS handshake): what parsing the whole line would say, without waiting for it.
    static func checkMethodPrefix(_ buffer: UnsafeRawBufferPointer) throws(HTTPParseError) {
        // A lone CR may be the start of an empty line before the request line.
        if buffer.count == 1 && buffer[0] == HTTPSyntax.cr { return }
        var index = 0
        let end = min(buffer.count, maxMethodLength + 1)
        while index < end && HTTPSyntax.isToken(buffer[index]) { index += 1 }
        if index == end && end <= maxMethodLength { return }
        if index < end && index > 0 && buffer[index] == HTTPSyntax.space { return }
        throw HTTPParseError(.badRequest, "invalid method")
    }

    /// Searches `buffer` from `start` for the end of a head (the index past CRLF CRLF),
    /// checking each line ending and the start line as they come, and each limit at the
    /// position where it is crossed: so the verdict depends only on the bytes, never on how
    /// they were chunked. `firstLF` carries the start line's LF (or -1) between calls.
    static func findEnd(
        _ buffer: UnsafeRawBufferPointer, from start: Int, firstLF: inout Int, kind: HTTPParser.Kind, limits: HTTPParserLimits
    ) throws(HTTPParseError) -> Int? {
        guard let base = buffer.baseAddress else { return nil }
        var index = start
        // A start line found in this call is checked only if the head does not end in it too:
        // a whole head goes to `parse`, which checks its start line before anything else.
        var isStartLineUnchecked = false
        while true {
            let limit = firstLF < 0 ? limits.maxTargetLength + startLineSlack : firstLF + limits.maxHeaderBytes + 3
            let searchEnd = min(buffer.count, limit + 1)
            guard index < searchEnd, let found = memchr(base + index, 0x0A, searchEnd - index) else {
                if isStartLineUnchecked {
                    try checkStartLine(UnsafeRawBufferPointer(rebasing: buffer[0...firstLF]), kind: kind, limits: limits)
                }
                if firstLF < 0 && kind == .request { try checkMethodPrefix(buffer) }
                if buffer.count > limit {
                    if firstLF < 0 {
                        throw startLineTooLong(UnsafeRawBufferPointer(rebasing: buffer[0..<limit]), kind: kind, limits: limits)
                    }
                    throw HTTPParseError(.headerTooLarge, "header section over \(limits.maxHeaderBytes) bytes")
                }
                return nil
            }
            let lf = base.distance(to: UnsafeRawPointer(found))
            guard lf > 0, buffer[lf - 1] == HTTPSyntax.cr else {
                if isStartLineUnchecked {
                    try checkStartLine(UnsafeRawBufferPointer(rebasing: buffer[0...firstLF]), kind: kind, limits: limits)
                }
                throw HTTPParseError(.badRequest, "bare LF in head")
            }
            if firstLF < 0 {
                firstLF = lf
                isStartLineUnchecked = true
            } else if lf >= 3 && buffer[lf - 2] == HTTPSyntax.lf && buffer[lf - 3] == HTTPSyntax.cr {
                return lf + 1
            }
            index = lf + 1
        }
    }

    /// Parses `head`, which ends with CRLF CRLF and does not start with an empty line.
    static func parse(
        _ head: Bytes, kind: HTTPParser.Kind, limits: HTTPParserLimits, responseHasNoBody: Bool
    ) throws(HTTPParseError) -> HTTPRawHead {
        try head.withUnsafeBytes { (buffer) throws(HTTPParseError) -> HTTPRawHead in
            var scanner = HeadScanner(head: head.storage, buffer: buffer, limits: limits)
            return try scanner.parse(kind: kind, responseHasNoBody: responseHasNoBody)
        }
    }
}

/// The state of one head parse: the buffer, the position, what the fields said.
private struct HeadScanner {
    /// The storage of `buffer`, for the slices a parse returns; nil to check without them.
    /// Unmanaged so that copies of the scanner cost no reference counting: the caller's
    /// `Bytes` keeps the storage alive for the whole parse.
    let head: Unmanaged<ByteStorage>?
    /// Where `buffer` starts in `head`.
    let baseOffset: Int
    let buffer: UnsafeRawBufferPointer
    let limits: HTTPParserLimits
    var position = 0

    var contentLength: Int?
    var hasTransferEncoding = false
    var chunkedCount = 0
    var isChunkedLast = false
    var hasOtherCoding = false
    var hostCount = 0
    var connectionClose = false
    var connectionKeepAlive = false
    var expectsContinue = false

    init(head: ByteStorage?, buffer: UnsafeRawBufferPointer, limits: HTTPParserLimits) {
        self.head = head.map { Unmanaged.passUnretained($0) }
        if let head, let base = buffer.baseAddress {
            baseOffset = head.withBase { UnsafeRawPointer($0).distance(to: base) }
        } else {
            baseOffset = 0
        }
        self.buffer = buffer
        self.limits = limits
    }

    @inline(__always)
    func slice(_ start: Int, _ end: Int) -> Bytes {
        guard let head else { return Bytes.empty }
        return Bytes(storage: head.takeUnretainedValue(), offset: baseOffset + start, count: end - start)
    }

    /// The end of the current line (the index of its CR); moves nothing.
    func lineEnd() throws(HTTPParseError) -> Int {
        // Force-unwrap: the head is not empty, so its base address exists.
        let base = buffer.baseAddress!
        guard let found = memchr(base + position, 0x0A, buffer.count - position) else {
            throw HTTPParseError(.badRequest, "unterminated line")
        }
        let lf = base.distance(to: UnsafeRawPointer(found))
        guard lf > position, buffer[lf - 1] == HTTPSyntax.cr else { throw HTTPParseError(.badRequest, "bare LF in head") }
        return lf - 1
    }

    mutating func parse(kind: HTTPParser.Kind, responseHasNoBody: Bool) throws(HTTPParseError) -> HTTPRawHead {
        let firstEnd = try lineEnd()
        // The start line first: findEnd leaves it to this function when the head came whole,
        // and its verdict must be the one findEnd gives when the head comes in pieces.
        var result = try parseStartLine(kind: kind, end: firstEnd)
        // findEnd enforced this already; kept so that this function is safe on its own.
        if buffer.count - (firstEnd + 2) > limits.maxHeaderBytes + 2 {
            throw HTTPParseError(.headerTooLarge, "header section over \(limits.maxHeaderBytes) bytes")
        }
        position = firstEnd + 2
        result.fields.reserveCapacity(8)
        while true {
            let end = try lineEnd()
            if end == position { break }
            if result.fields.count == limits.maxFieldCount {
                throw HTTPParseError(.headerTooLarge, "more than \(limits.maxFieldCount) header fields")
            }
            let field = try HTTPFieldLine.parse(
                buffer, from: position, to: end, storage: head?.takeUnretainedValue(), baseOffset: baseOffset)
            try interpret(field)
            result.fields.append(field.field)
            position = end + 2
        }
        switch kind {
        case .request: try frameRequest(&result)
        case .response: try frameResponse(&result, hasNoBody: responseHasNoBody)
        }
        return result
    }

    mutating func parseStartLine(kind: HTTPParser.Kind, end: Int) throws(HTTPParseError) -> HTTPRawHead {
        switch kind {
        case .request:
            return try parseRequestLine(end: end)
        case .response:
            if end - position > limits.maxTargetLength + HTTPHeadParser.startLineSlack {
                throw HTTPParseError(.badRequest, "status line too long")
            }
            return try parseStatusLine(end: end)
        }
    }

    mutating func parseRequestLine(end: Int) throws(HTTPParseError) -> HTTPRawHead {
        var index = position
        while index < end && HTTPSyntax.isToken(buffer[index]) { index += 1 }
        guard index > position, index - position <= HTTPHeadParser.maxMethodLength, index < end, buffer[index] == HTTPSyntax.space
        else {
            throw HTTPParseError(.badRequest, "invalid method")
        }
        let method = slice(position, index)
        let targetStart = index + 1
        index = targetStart
        while index < end && HTTPSyntax.isTarget(buffer[index]) { index += 1 }
        if index - targetStart > limits.maxTargetLength {
            throw HTTPParseError(.targetTooLong, "request target over \(limits.maxTargetLength) bytes")
        }
        guard index > targetStart, index < end, buffer[index] == HTTPSyntax.space else {
            throw HTTPParseError(.badRequest, "invalid request target")
        }
        let target = slice(targetStart, index)
        let version = try parseVersion(from: index + 1, to: end)
        return HTTPRawHead(method: method, target: target, version: version)
    }

    mutating func parseStatusLine(end: Int) throws(HTTPParseError) -> HTTPRawHead {
        guard end - position >= 12 else { throw HTTPParseError(.badRequest, "invalid status line") }
        let version = try parseVersion(from: position, to: position + 8)
        var index = position + 8
        guard buffer[index] == HTTPSyntax.space else { throw HTTPParseError(.badRequest, "invalid status line") }
        var status = 0
        for offset in 1...3 {
            let digit = buffer[index + offset] &- 0x30
            guard digit < 10 else { throw HTTPParseError(.badRequest, "invalid status code") }
            status = status * 10 + Int(digit)
        }
        guard status >= 100 else { throw HTTPParseError(.badRequest, "invalid status code") }
        index += 4
        var reasonStart = index
        if index < end {
            guard buffer[index] == HTTPSyntax.space else { throw HTTPParseError(.badRequest, "invalid status line") }
            reasonStart = index + 1
            for position in reasonStart..<end where !HTTPSyntax.isFieldValue(buffer[position]) {
                throw HTTPParseError(.badRequest, "invalid character in reason phrase")
            }
        }
        var result = HTTPRawHead(version: version)
        result.status = status
        result.reason = slice(reasonStart, end)
        return result
    }

    func parseVersion(from start: Int, to end: Int) throws(HTTPParseError) -> HTTPVersion {
        guard end - start == 8, buffer[start] == 0x48, buffer[start + 1] == 0x54, buffer[start + 2] == 0x54,
            buffer[start + 3] == 0x50, buffer[start + 4] == 0x2F, buffer[start + 6] == 0x2E
        else { throw HTTPParseError(.badRequest, "invalid HTTP version") }
        let major = buffer[start + 5] &- 0x30
        let minor = buffer[start + 7] &- 0x30
        guard major < 10, minor < 10 else { throw HTTPParseError(.badRequest, "invalid HTTP version") }
        guard major == 1 else { throw HTTPParseError(.unsupportedVersion, "HTTP version \(major).\(minor) not supported") }
        return HTTPVersion(major: 1, minor: Int(minor))
    }

    /// Notes what the framing and connection fields say.
    mutating func interpret(_ line: HTTPFieldLine) throws(HTTPParseError) {
        let name = UnsafeRawBufferPointer(rebasing: buffer[line.nameStart..<line.nameEnd])
        let value = UnsafeRawBufferPointer(rebasing: buffer[line.valueStart..<line.valueEnd])
        switch name.count {
        case 4 where name.equalsIgnoringCase("host"):
            hostCount += 1
        case 6 where name.equalsIgnoringCase("expect"):
            if value.equalsIgnoringCase("100-continue") { expectsContinue = true }
        case 10 where name.equalsIgnoringCase("connection"):
            try HTTPSyntax.forEachListElement(value) { (option) throws(HTTPParseError) in
                if option.equalsIgnoringCase("close") {
                    connectionClose = true
                } else if option.equalsIgnoringCase("keep-alive") {
                    connectionKeepAlive = true
                }
            }
        case 14 where name.equalsIgnoringCase("content-length"):
            var seen = false
            try HTTPSyntax.forEachListElement(value) { (element) throws(HTTPParseError) in
                seen = true
                guard element.count <= 18 else { throw HTTPParseError(.badRequest, "Content-Length too large") }
                var length = 0
                for byte in element {
                    let digit = byte &- 0x30
                    guard digit < 10 else { throw HTTPParseError(.badRequest, "invalid Content-Length") }
                    length = length * 10 + Int(digit)
                }
                if let earlier = contentLength, earlier != length {
                    throw HTTPParseError(.badRequest, "conflicting Content-Length values")
                }
                contentLength = length
            }
            if !seen { throw HTTPParseError(.badRequest, "empty Content-Length") }
        case 17 where name.equalsIgnoringCase("transfer-encoding"):
            hasTransferEncoding = true
            try HTTPSyntax.forEachListElement(value) { (coding) throws(HTTPParseError) in
                if coding.equalsIgnoringCase("chunked") {
                    chunkedCount += 1
                    isChunkedLast = true
                } else {
                    for byte in coding where !HTTPSyntax.isToken(byte) && byte != 0x3B && byte != 0x3D && !HTTPSyntax.isWhitespace(byte) {
                        throw HTTPParseError(.badRequest, "invalid transfer coding")
                    }
                    hasOtherCoding = true
                    isChunkedLast = false
                }
            }
        default:
            break
        }
    }

    func frameRequest(_ head: inout HTTPRawHead) throws(HTTPParseError) {
        if hostCount > 1 { throw HTTPParseError(.badRequest, "more than one Host field") }
        if hostCount == 0 && head.version.minor >= 1 { throw HTTPParseError(.badRequest, "HTTP/1.1 request without Host") }
        if hasTransferEncoding {
            if contentLength != nil { throw HTTPParseError(.badRequest, "both Content-Length and Transfer-Encoding") }
            if head.version.minor == 0 { throw HTTPParseError(.badRequest, "Transfer-Encoding in an HTTP/1.0 request") }
            if hasOtherCoding { throw HTTPParseError(.unsupportedTransferCoding, "transfer coding other than chunked") }
            guard chunkedCount == 1, isChunkedLast else { throw HTTPParseError(.badRequest, "invalid Transfer-Encoding") }
            head.framing = .chunked
        } else if let length = contentLength {
            if length > limits.maxBodyBytes { throw HTTPParseError(.bodyTooLarge, "body over \(limits.maxBodyBytes) bytes") }
            head.framing = length == 0 ? .none : .length(length)
        }
        head.isKeepAlive = head.version.minor >= 1 ? !connectionClose : connectionKeepAlive && !connectionClose
        head.expectsContinue = expectsContinue && head.version.minor >= 1 && head.framing != .none
    }

    func frameResponse(_ head: inout HTTPRawHead, hasNoBody: Bool) throws(HTTPParseError) {
        if hasTransferEncoding && contentLength != nil {
            throw HTTPParseError(.badRequest, "both Content-Length and Transfer-Encoding")
        }
        if hasNoBody || head.status < 200 || head.status == 204 || head.status == 304 {
            head.framing = .none
        } else if hasTransferEncoding {
            if hasOtherCoding { throw HTTPParseError(.unsupportedTransferCoding, "transfer coding other than chunked") }
            guard chunkedCount == 1, isChunkedLast else { throw HTTPParseError(.badRequest, "invalid Transfer-Encoding") }
            head.framing = .chunked
        } else if let length = contentLength {
            if length > limits.maxBodyBytes { throw HTTPParseError(.bodyTooLarge, "body over \(limits.maxBodyBytes) bytes") }
            head.framing = length == 0 ? .none : .length(length)
        } else {
            head.framing = .untilClose
        }
        head.isKeepAlive =
            head.framing != .untilClose
            && (head.version.minor >= 1 ? !connectionClose : connectionKeepAlive && !connectionClose)
    }
}

/// One `name: value` line, validated, as positions in its buffer.
struct HTTPFieldLine {
    let nameStart: Int
    let nameEnd: Int
    let valueStart: Int
    let valueEnd: Int
    let field: HTTPRawField

    /// Parses the line in `buffer[start..<end]` (no CRLF); the field's bytes share `storage`,
    /// where `buffer` starts at `baseOffset` (empty bytes if `storage` is nil).
    @inline(__always)
    static func parse(
        _ buffer: UnsafeRawBufferPointer, from start: Int, to end: Int, storage: ByteStorage?, baseOffset: Int
    ) throws(HTTPParseError) -> HTTPFieldLine {
        func slice(_ low: Int, _ high: Int) -> Bytes {
            guard let storage else { return Bytes.empty }
            return Bytes(storage: storage, offset: baseOffset + low, count: high - low)
        }
        if HTTPSyntax.isWhitespace(buffer[start]) { throw HTTPParseError(.badRequest, "obsolete line folding") }
        var index = start
        while index < end && HTTPSyntax.isToken(buffer[index]) { index += 1 }
        guard index < end, buffer[index] == HTTPSyntax.colon else {
            if index < end && HTTPSyntax.isWhitespace(buffer[index]) {
                throw HTTPParseError(.badRequest, "whitespace before colon in field")
            }
            throw HTTPParseError(.badRequest, "invalid field name")
        }
        guard index > start else { throw HTTPParseError(.badRequest, "empty field name") }
        let nameEnd = index
        index += 1
        while index < end && HTTPSyntax.isWhitespace(buffer[index]) { index += 1 }
        let valueStart = index
        var valueEnd = index
        while index < end {
            let byte = buffer[index]
            guard HTTPSyntax.isFieldValue(byte) else { throw HTTPParseError(.badRequest, "invalid character in field value") }
            index += 1
            if !HTTPSyntax.isWhitespace(byte) { valueEnd = index }
        }
        return HTTPFieldLine(
            nameStart: start, nameEnd: nameEnd, valueStart: valueStart, valueEnd: valueEnd,
            field: HTTPRawField(name: slice(start, nameEnd), value: slice(valueStart, valueEnd)))
    }
}
