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
        var scanner = HeadScanner(buffer: buffer, limits: limits)
        _ = try scanner.parseStartLine(kind: kind)
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

    /// Parses `head`, a head that ``findEnd(_:from:firstLF:kind:limits:)`` found: it ends with
    /// CRLF CRLF, does not start with an empty line, and has a CR before each LF.
    static func parse(
        _ head: Bytes, kind: HTTPParser.Kind, limits: HTTPParserLimits, responseHasNoBody: Bool
    ) throws(HTTPParseError) -> HTTPRawHead {
        let layout = try head.withUnsafeBytes { (buffer) throws(HTTPParseError) -> HTTPHeadLayout in
            var scanner = HeadScanner(buffer: buffer, limits: limits)
            return try scanner.parse(kind: kind, responseHasNoBody: responseHasNoBody, isWhole: true)
        }
        return HTTPRawHead(bytes: head, layout: layout)
    }

    /// The head at the start of `buffer` (which does not start with an empty line), parsed in
    /// one pass, if it is complete, valid and within the limits: what ``findEnd(_:from:firstLF:kind:limits:)``
    /// then ``parse(_:kind:limits:responseHasNoBody:)`` would give. `nil` for anything else,
    /// which those two must then judge.
    static func parseComplete(
        _ buffer: UnsafeRawBufferPointer, kind: HTTPParser.Kind, limits: HTTPParserLimits, responseHasNoBody: Bool
    ) -> HTTPHeadLayout? {
        var scanner = HeadScanner(buffer: buffer, limits: limits)
        return try? scanner.parse(kind: kind, responseHasNoBody: responseHasNoBody, isWhole: false)
    }
}

/// The state of one head parse: the buffer, the position, what the fields said.
private struct HeadScanner {
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

    init(buffer: UnsafeRawBufferPointer, limits: HTTPParserLimits) {
        self.buffer = buffer
        self.limits = limits
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

    /// Parses the head at the start of `buffer`.
    ///
    /// Each line is scanned once, up to its CR: the characters a line may hold exclude CR, and
    /// a head that findEnd found has a CR before each LF, so the first CR not followed by LF
    /// is a bad character and the first CRLF is the line's end, where a search for the LF
    /// would have put it.
    ///
    /// `isWhole` says `buffer` is the head that findEnd found. Otherwise the head may end
    /// before the end of `buffer`, or not be complete: the parse then throws unless the head is
    /// complete and valid, and within the limits where findEnd would have looked for its end;
    /// then findEnd would have found that end, and the parse of the head alone gives this one.
    mutating func parse(kind: HTTPParser.Kind, responseHasNoBody: Bool, isWhole: Bool) throws(HTTPParseError) -> HTTPHeadLayout {
        // The start line first: findEnd leaves it to this function when the head came whole,
        // and its verdict must be the one findEnd gives when the head comes in pieces.
        var layout = try parseStartLine(kind: kind)
        // findEnd enforced this already; kept so that this function is safe on its own.
        if isWhole && buffer.count - layout.fieldsStart > limits.maxHeaderBytes + 2 {
            throw HTTPParseError(.headerTooLarge, "header section over \(limits.maxHeaderBytes) bytes")
        }
        position = layout.fieldsStart
        while true {
            guard position + 1 < buffer.count else { throw HTTPParseError(.badRequest, "unterminated line") }
            if buffer[position] == HTTPSyntax.cr && buffer[position + 1] == HTTPSyntax.lf { break }
            if layout.fieldCount == limits.maxFieldCount {
                throw HTTPParseError(.headerTooLarge, "more than \(limits.maxFieldCount) header fields")
            }
            let field = try HTTPFieldLine.parse(buffer, from: position)
            try interpret(field)
            layout.fieldCount += 1
            position = field.end + 2
        }
        layout.count = position + 2
        if !isWhole {
            // The limits findEnd applies: the start line's LF within its search, the rest of the
            // head within the header limit (the check above, on the head alone).
            if layout.fieldsStart - 1 > limits.maxTargetLength + HTTPHeadParser.startLineSlack
                || layout.count - layout.fieldsStart > limits.maxHeaderBytes + 2
            {
                throw HTTPParseError(.headerTooLarge, "left to findEnd")
            }
        }
        switch kind {
        case .request: try frameRequest(&layout)
        case .response: try frameResponse(&layout, hasNoBody: responseHasNoBody)
        }
        return layout
    }

    /// Parses the start line at `position` (the head's first line, through its CRLF).
    mutating func parseStartLine(kind: HTTPParser.Kind) throws(HTTPParseError) -> HTTPHeadLayout {
        switch kind {
        case .request:
            return try parseRequestLine()
        case .response:
            let end = try lineEnd()
            if end - position > limits.maxTargetLength + HTTPHeadParser.startLineSlack {
                throw HTTPParseError(.badRequest, "status line too long")
            }
            return try parseStatusLine(end: end)
        }
    }

    /// Parses a request line, scanning it once: neither method nor target characters include
    /// CR, so both scans stop before the line's end, and the version must end at a CRLF.
    mutating func parseRequestLine() throws(HTTPParseError) -> HTTPHeadLayout {
        let count = buffer.count
        var index = position
        while index < count && HTTPSyntax.isToken(buffer[index]) { index += 1 }
        guard index > position, index - position <= HTTPHeadParser.maxMethodLength, index < count,
            buffer[index] == HTTPSyntax.space
        else {
            throw HTTPParseError(.badRequest, "invalid method")
        }
        let methodEnd = index
        let targetStart = index + 1
        index = targetStart
        while index < count && HTTPSyntax.isTarget(buffer[index]) { index += 1 }
        if index - targetStart > limits.maxTargetLength {
            throw HTTPParseError(.targetTooLong, "request target over \(limits.maxTargetLength) bytes")
        }
        guard index > targetStart, index < count, buffer[index] == HTTPSyntax.space else {
            throw HTTPParseError(.badRequest, "invalid request target")
        }
        let versionStart = index + 1
        // The version is the line's last 8 bytes: its CRLF comes right after them.
        guard versionStart + 10 <= count, buffer[versionStart + 8] == HTTPSyntax.cr, buffer[versionStart + 9] == HTTPSyntax.lf
        else { throw HTTPParseError(.badRequest, "invalid HTTP version") }
        let version = try parseVersion(from: versionStart, to: versionStart + 8)
        // The target ends 9 bytes before the CR (` HTTP/1.1`): HTTPRawHead finds it there.
        return HTTPHeadLayout(methodEnd: methodEnd, fieldsStart: versionStart + 10, version: version)
    }

    mutating func parseStatusLine(end: Int) throws(HTTPParseError) -> HTTPHeadLayout {
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
        // HTTPRawHead finds the reason phrase from the line's end: it starts at 13, if the line is longer than 12.
        assert(reasonStart == min(13, end))
        return HTTPHeadLayout(fieldsStart: end + 2, status: status, version: version)
    }

    /// `HTTP/1.1` and `HTTP/1.0` read as little-endian words.
    static let http11Word: UInt64 = 0x312E_312F_5054_5448
    static let http10Word: UInt64 = 0x302E_312F_5054_5448

    func parseVersion(from start: Int, to end: Int) throws(HTTPParseError) -> HTTPVersion {
        // The two versions accepted, each compared as one word; anything else byte by byte.
        if end - start == 8 {
            let word = UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: start, as: UInt64.self))
            if word == Self.http11Word { return HTTPVersion(major: 1, minor: 1) }
            if word == Self.http10Word { return HTTPVersion(major: 1, minor: 0) }
        }
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

    func frameRequest(_ head: inout HTTPHeadLayout) throws(HTTPParseError) {
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

    func frameResponse(_ head: inout HTTPHeadLayout, hasNoBody: Bool) throws(HTTPParseError) {
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
    /// The index of the line's CR.
    let end: Int

    /// Parses the line starting at `start` in `buffer`, through the first CRLF after it (a
    /// field's characters exclude CR, so the scan of its value stops there). A CR not
    /// followed by LF, or any other byte a value may not hold, is an invalid character.
    @inline(__always)
    static func parse(_ buffer: UnsafeRawBufferPointer, from start: Int) throws(HTTPParseError) -> HTTPFieldLine {
        let count = buffer.count
        if HTTPSyntax.isWhitespace(buffer[start]) { throw HTTPParseError(.badRequest, "obsolete line folding") }
        var index = start
        while index < count && HTTPSyntax.isToken(buffer[index]) { index += 1 }
        guard index < count, buffer[index] == HTTPSyntax.colon else {
            if index < count && HTTPSyntax.isWhitespace(buffer[index]) {
                throw HTTPParseError(.badRequest, "whitespace before colon in field")
            }
            throw HTTPParseError(.badRequest, "invalid field name")
        }
        guard index > start else { throw HTTPParseError(.badRequest, "empty field name") }
        let nameEnd = index
        index += 1
        while index < count && HTTPSyntax.isWhitespace(buffer[index]) { index += 1 }
        let valueStart = index
        while index < count && HTTPSyntax.isFieldValue(buffer[index]) { index += 1 }
        var valueEnd = index
        while valueEnd > valueStart && HTTPSyntax.isWhitespace(buffer[valueEnd - 1]) { valueEnd -= 1 }
        guard index + 1 < count, buffer[index] == HTTPSyntax.cr, buffer[index + 1] == HTTPSyntax.lf else {
            if index == count { throw HTTPParseError(.badRequest, "unterminated line") }
            if buffer[index] == HTTPSyntax.lf { throw HTTPParseError(.badRequest, "bare LF in head") }
            throw HTTPParseError(.badRequest, "invalid character in field value")
        }
        return HTTPFieldLine(nameStart: start, nameEnd: nameEnd, valueStart: valueStart, valueEnd: valueEnd, end: index)
    }
}
