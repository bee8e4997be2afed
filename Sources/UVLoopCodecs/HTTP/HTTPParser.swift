#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// An incremental HTTP/1.1 parser for requests or responses: hand it whatever bytes arrived
/// with ``append(_:)``, then take events with ``next()`` until it returns `nil`.
///
/// Each message yields one ``Event/head(_:)``, zero or more ``Event/body(_:)`` chunks (slices
/// of the appended bytes, never copies) and one ``Event/end(trailers:)``; then the next
/// message begins. A head that arrives whole in one chunk is parsed in place; only a head or
/// chunk line split across chunks is gathered into a buffer. The parser is strict (RFC 9112):
/// any error leaves it failed for good, and the connection should be closed.
///
/// ```swift
/// var parser = HTTPParser(kind: .request)
/// parser.append(chunk)
/// while let event = try parser.next() {
///     switch event {
///     case .head(let head): print(head.method, head.target)
///     case .body(let bytes): print("\(bytes.count) body bytes")
///     case .end: print("request done")
///     }
/// }
/// ```
public struct HTTPParser {
    /// Which messages the parser reads.
    public enum Kind: Sendable {
        /// Requests (a server).
        case request
        /// Responses (a client).
        case response
    }

    /// One step of a message.
    public enum Event: Sendable {
        /// The head: start line and header fields.
        case head(HTTPRawHead)
        /// A piece of the body, with chunked framing removed.
        case body(Bytes)
        /// The end of the message, with the trailer fields of a chunked body.
        case end(trailers: [HTTPRawField])
    }

    private enum State {
        case head
        case length(remaining: Int)
        case chunkHeader
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
        case untilClose
        case endOfMessage
        case failed
    }

    /// The kind of message parsed.
    public let kind: Kind
    /// The limits enforced.
    public var limits: HTTPParserLimits
    /// Set by a client before the head of a response to a `HEAD` request (it has no body
    /// whatever its fields say); cleared when that head is parsed.
    public var nextResponseHasNoBody = false

    private var state = State.head
    /// Appended bytes not yet consumed.
    private var pending = Bytes.empty
    /// An unfinished head or chunk line, gathered across chunks.
    private var partial: [UInt8] = []
    /// How much of `partial` has been searched for the end of the head.
    private var scanned = 0
    private var bodyCount = 0
    private var trailerFields: [HTTPRawField] = []
    private var trailerBytes = 0
    private var failure: HTTPParseError?
    /// The index in `partial` of the unfinished head's first LF, or -1.
    private var headFirstLF = -1

    /// A parser for `kind` messages with `limits`.
    public init(kind: Kind, limits: HTTPParserLimits = HTTPParserLimits()) {
        self.kind = kind
        self.limits = limits
    }

    /// True between messages with no byte of the next one received.
    public var isIdle: Bool {
        if case .head = state { return pending.count == 0 && partial.isEmpty }
        return false
    }

    /// True while the parser waits for (or is inside) a head rather than a body.
    public var isAwaitingHead: Bool {
        if case .head = state { return true }
        return false
    }

    /// Bytes received and not yet returned in an event.
    public var bufferedByteCount: Int { pending.count + partial.count }

    /// Takes the bytes received after the last message and not yet parsed — what a protocol
    /// the connection switches to (a WebSocket) reads first — leaving the parser empty.
    public mutating func takeBuffered() -> Bytes {
        let taken = partial.isEmpty ? pending : Bytes(partial) + pending
        partial = []
        scanned = 0
        headFirstLF = -1
        pending = Bytes.empty
        return taken
    }

    /// Adds received bytes; they are shared, not copied, unless they complete a split head.
    public mutating func append(_ bytes: Bytes) {
        if pending.count == 0 {
            pending = bytes
        } else if bytes.count > 0 {
            pending = pending + bytes
        }
    }

    /// The next event, or `nil` if more bytes are needed.
    ///
    /// Throws ``HTTPParseError`` for a message that breaks the syntax or a limit; the parser
    /// then stays failed.
    public mutating func next() throws(HTTPParseError) -> Event? {
        if let failure { throw failure }
        do {
            return try step()
        } catch {
            failure = error
            state = .failed
            throw error
        }
    }

    /// The next head, for a reader that takes heads apart from bodies (a server): what
    /// ``next()`` returns while ``isAwaitingHead``, without the event around it, and a message
    /// without a body ends with its head (no ``Event/end(trailers:)`` follows). `nil` if more
    /// bytes are needed; throws as ``next()`` does, and also if called inside a message.
    public mutating func nextHead() throws(HTTPParseError) -> HTTPRawHead? {
        if let failure { throw failure }
        guard case .head = state else { throw HTTPParseError(.badRequest, "a head was asked for inside a message") }
        do {
            guard let head = try parseHead() else { return nil }
            if case .endOfMessage = state { state = .head }
            return head
        } catch {
            failure = error
            state = .failed
            throw error
        }
    }

    /// The method and target of the request whose head comes next, read off the bytes
    /// received (each up to its space) without parsing the head, so that a server can choose
    /// how to answer it first; nil if they have not arrived, span appended chunks, or the
    /// parser is not awaiting a request's head. Only ``nextHead()`` validates: a head it
    /// accepts has this method and target.
    ///
    /// `mutating` though it changes nothing: a caller holding the parser in a class property
    /// then passes it in place, where a non-mutating call copies it (a retain and a release of
    /// each of its buffers).
    public mutating func peekRequestLine() -> (method: Bytes, target: Bytes)? {
        guard kind == .request, failure == nil, partial.isEmpty, case .head = state else { return nil }
        let maxTarget = limits.maxTargetLength
        let ends: (Int, Int)? = pending.withUnsafeBytes { buffer in
            guard let base = buffer.baseAddress else { return nil }
            let space = Int32(UInt8(ascii: " "))
            guard let methodSpace = memchr(base, space, min(buffer.count, 32)) else { return nil }
            let methodEnd = base.distance(to: UnsafeRawPointer(methodSpace))
            let targetStart = methodEnd + 1
            let targetArea = min(buffer.count - targetStart, maxTarget + 1)
            guard let targetSpace = memchr(base + targetStart, space, targetArea) else { return nil }
            return (methodEnd, base.distance(to: UnsafeRawPointer(targetSpace)))
        }
        guard let (methodEnd, targetEnd) = ends else { return nil }
        return (pending.slice(0..<methodEnd), pending.slice((methodEnd + 1)..<targetEnd))
    }

    /// Tells the parser the stream ended: returns the end of a body delimited by the close,
    /// `nil` if the stream ended cleanly between messages, and throws
    /// ``HTTPParseError/Kind/incomplete`` if it ended inside a message.
    public mutating func finish() throws(HTTPParseError) -> Event? {
        if let failure { throw failure }
        switch state {
        case .head where pending.count == 0 && partial.isEmpty:
            return nil
        case .untilClose:
            state = .head
            return .end(trailers: [])
        default:
            let error = HTTPParseError(.incomplete, "the stream ended inside a message")
            failure = error
            state = .failed
            throw error
        }
    }

    private mutating func step() throws(HTTPParseError) -> Event? {
        while true {
            switch state {
            case .head:
                guard let head = try parseHead() else { return nil }
                return .head(head)
            case .length(let remaining):
                guard pending.count > 0 else { return nil }
                let count = min(remaining, pending.count)
                let chunk = takePending(count)
                state = remaining == count ? .endOfMessage : .length(remaining: remaining - count)
                return .body(chunk)
            case .endOfMessage:
                state = .head
                return .end(trailers: [])
            case .chunkHeader:
                guard let line = try takeLine(limit: 1024, tooLong: HTTPParseError(.badRequest, "chunk size line too long"))
                else { return nil }
                let size = try Self.chunkSize(line)
                if size == 0 {
                    state = .trailers
                    trailerBytes = 0
                    continue
                }
                bodyCount += size
                if bodyCount > limits.maxBodyBytes {
                    throw HTTPParseError(.bodyTooLarge, "body over \(limits.maxBodyBytes) bytes")
                }
                state = .chunkData(remaining: size)
            case .chunkData(let remaining):
                guard pending.count > 0 else { return nil }
                let count = min(remaining, pending.count)
                let chunk = takePending(count)
                state = remaining == count ? .chunkDataEnd : .chunkData(remaining: remaining - count)
                return .body(chunk)
            case .chunkDataEnd:
                let error = HTTPParseError(.badRequest, "chunk data not followed by CRLF")
                guard let line = try takeLine(limit: 0, tooLong: error) else { return nil }
                if line.count != 2 { throw error }
                state = .chunkHeader
            case .trailers:
                let remaining = max(0, limits.maxHeaderBytes - trailerBytes)
                let tooLarge = HTTPParseError(.headerTooLarge, "trailer section over \(limits.maxHeaderBytes) bytes")
                guard let line = try takeLine(limit: remaining, tooLong: tooLarge) else { return nil }
                if line.count == 2 {
                    state = .head
                    let trailers = trailerFields
                    trailerFields = []
                    return .end(trailers: trailers)
                }
                trailerBytes += line.count
                if trailerFields.count == limits.maxFieldCount {
                    throw HTTPParseError(.headerTooLarge, "more than \(limits.maxFieldCount) trailer fields")
                }
                let field = try line.withUnsafeBytes { (buffer) throws(HTTPParseError) -> HTTPFieldLine in
                    try HTTPFieldLine.parse(buffer, from: 0)
                }
                trailerFields.append(
                    HTTPRawField(
                        name: line.slice(field.nameStart..<field.nameEnd), value: line.slice(field.valueStart..<field.valueEnd)))
            case .untilClose:
                guard pending.count > 0 else { return nil }
                return .body(takePending(pending.count))
            case .failed:
                throw failure ?? HTTPParseError(.badRequest, "parser failed earlier")
            }
        }
    }

    /// The head, if it has all arrived, with the state set for what follows it.
    private mutating func parseHead() throws(HTTPParseError) -> HTTPRawHead? {
        let head: HTTPRawHead
        if partial.isEmpty, pending.count > 0,
            let layout = pending.withUnsafeBytes({ [kind, limits, nextResponseHasNoBody] in
                HTTPHeadParser.parseComplete($0, kind: kind, limits: limits, responseHasNoBody: nextResponseHasNoBody)
            })
        {
            // A whole valid head at the start of what arrived (the common case): parsed in one pass.
            head = HTTPRawHead(bytes: takePending(layout.count), layout: layout)
        } else {
            guard let headBytes = try takeHead() else { return nil }
            head = try HTTPHeadParser.parse(headBytes, kind: kind, limits: limits, responseHasNoBody: nextResponseHasNoBody)
        }
        if kind == .response && head.status >= 100 && head.status < 200 {
            // An interim response: its head alone, then the final one follows.
            return head
        }
        nextResponseHasNoBody = false
        bodyCount = 0
        switch head.framing {
        case .none: state = .endOfMessage
        case .length(let count): state = .length(remaining: count)
        case .chunked: state = .chunkHeader
        case .untilClose: state = .untilClose
        }
        return head
    }

    private mutating func takePending(_ count: Int) -> Bytes {
        if count == pending.count {
            // All of it (a read holding one request): moved out, no reference counted.
            var taken = Bytes.empty
            swap(&taken, &pending)
            return taken
        }
        let taken = pending.slice(0..<count)
        pending = pending.slice(count..<pending.count)
        return taken
    }

    /// The next complete head (through its empty line), skipping empty lines before it;
    /// `nil` if it has not all arrived.
    private mutating func takeHead() throws(HTTPParseError) -> Bytes? {
        let kind = kind
        let limits = limits
        if partial.isEmpty {
            if pending.count == 0 { return nil }
            var skip = 0
            var firstLF = -1
            let end: Int?
            do {
                // One pass over the buffer: the empty lines before the head, then its end.
                end = try pending.withUnsafeBytes { (buffer) throws(HTTPParseError) -> Int? in
                    // Leading empty lines are ignored (RFC 9112 §2.2).
                    while buffer.count - skip >= 2 && buffer[skip] == HTTPSyntax.cr && buffer[skip + 1] == HTTPSyntax.lf {
                        skip += 2
                    }
                    if skip == buffer.count { return nil }
                    return try HTTPHeadParser.findEnd(
                        UnsafeRawBufferPointer(rebasing: buffer[skip...]), from: 0, firstLF: &firstLF, kind: kind, limits: limits)
                }
            } catch {
                if skip > 0 { _ = takePending(skip) }
                throw error
            }
            if skip > 0 { _ = takePending(skip) }
            if let end { return takePending(end) }
            if pending.count == 0 { return nil }
            pending.withUnsafeBytes { partial.append(contentsOf: $0) }
            pending = Bytes.empty
            scanned = partial.count
            headFirstLF = firstLF
            return nil
        }
        pending.withUnsafeBytes { partial.append(contentsOf: $0) }
        pending = Bytes.empty
        var from = scanned
        if headFirstLF < 0 && partial.count >= 2 && partial[0] == HTTPSyntax.cr && partial[1] == HTTPSyntax.lf {
            while partial.count >= 2 && partial[0] == HTTPSyntax.cr && partial[1] == HTTPSyntax.lf { partial.removeFirst(2) }
            from = 0
        }
        var firstLF = headFirstLF
        // Array's withUnsafeBytes rethrows untyped errors: the result carries the typed one out.
        let end = try partial.withUnsafeBytes { buffer in
            Result { () throws(HTTPParseError) -> Int? in
                try HTTPHeadParser.findEnd(buffer, from: from, firstLF: &firstLF, kind: kind, limits: limits)
            }
        }.get()
        headFirstLF = firstLF
        guard let end else {
            scanned = partial.count
            return nil
        }
        let head = partial.withUnsafeBytes { Bytes(UnsafeRawBufferPointer(rebasing: $0[0..<end])) }
        if end < partial.count { pending = partial.withUnsafeBytes { Bytes(UnsafeRawBufferPointer(rebasing: $0[end...])) } }
        partial = []
        scanned = 0
        headFirstLF = -1
        return head
    }

    /// The next CRLF-terminated line (CRLF included); throws `tooLong` for a line whose
    /// content is over `limit` bytes, and for a bare LF.
    private mutating func takeLine(limit: Int, tooLong: HTTPParseError) throws(HTTPParseError) -> Bytes? {
        guard let lf = pending.firstIndex(of: HTTPSyntax.lf) else {
            if partial.count + pending.count > limit + 1 { throw tooLong }
            pending.withUnsafeBytes { partial.append(contentsOf: $0) }
            pending = Bytes.empty
            return nil
        }
        if partial.count + lf > limit + 1 { throw tooLong }
        let line: Bytes
        if partial.isEmpty {
            line = takePending(lf + 1)
        } else {
            takePending(lf + 1).withUnsafeBytes { partial.append(contentsOf: $0) }
            line = Bytes(partial)
            partial = []
        }
        guard line.count >= 2, line[line.count - 2] == HTTPSyntax.cr else {
            throw HTTPParseError(.badRequest, "bare LF")
        }
        return line
    }

    /// The size in a chunk line (`1*HEXDIG [ chunk-ext ] CRLF`).
    private static func chunkSize(_ line: Bytes) throws(HTTPParseError) -> Int {
        try line.withUnsafeBytes { (buffer) throws(HTTPParseError) -> Int in
            let end = buffer.count - 2
            var size = 0
            var index = 0
            while index < end {
                let byte = buffer[index]
                let digit: UInt8
                switch byte {
                case 0x30...0x39: digit = byte - 0x30
                case 0x41...0x46: digit = byte - 0x41 + 10
                case 0x61...0x66: digit = byte - 0x61 + 10
                default: digit = 0xFF
                }
                if digit == 0xFF { break }
                guard index < 15 else { throw HTTPParseError(.badRequest, "chunk size too large") }
                size = size << 4 | Int(digit)
                index += 1
            }
            guard index > 0 else { throw HTTPParseError(.badRequest, "invalid chunk size") }
            if index < end {
                // chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] )
                var position = index
                while position < end && HTTPSyntax.isWhitespace(buffer[position]) { position += 1 }
                guard position < end, buffer[position] == 0x3B else { throw HTTPParseError(.badRequest, "invalid chunk size") }
                for byte in buffer[position..<end] where !HTTPSyntax.isFieldValue(byte) {
                    throw HTTPParseError(.badRequest, "invalid chunk extension")
                }
            }
            return size
        }
    }
}
