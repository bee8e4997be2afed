#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// An incremental decoder of RESP2 replies: append whatever chunk arrived, take whole replies.
///
/// It keeps its own state between chunks, so a reply may be split anywhere — inside a length,
/// between CR and LF, in the middle of a bulk string or of a nested array — and many pipelined
/// replies may arrive in one chunk. Bulk strings that lie within one chunk share its storage
/// (no copy); one split across chunks is gathered as it arrives and copied once at its end.
///
/// ```swift
/// var decoder = RESPDecoder()
/// decoder.append("+OK\r\n:4")
/// try decoder.next()   // "OK"
/// try decoder.next()   // nil: more input needed
/// decoder.append("2\r\n")
/// try decoder.next()   // (integer) 42
/// ```
///
/// The decoder is strict, so that re-encoding a decoded reply gives back its bytes exactly:
/// lines end in CRLF, integers and lengths have no sign `+`, no leading zeros and no `-0`.
/// A hostile peer cannot make it allocate by announcing sizes: memory grows only with bytes
/// that actually arrive, and ``Limits`` bound each string, array and the nesting depth.
public struct RESPDecoder {
    /// Bounds on what one reply may hold; exceeding one throws ``RESPProtocolError``.
    public struct Limits: Sendable, Hashable {
        /// The longest bulk string, in bytes (default 512 MiB, Redis' own largest string).
        public var maxBulkLength: Int
        /// The most elements in one array (default 1,048,576).
        public var maxArrayCount: Int
        /// The deepest nesting of arrays (default 16; Redis' own replies nest at most 4 deep,
        /// a Lua script's can nest deeper).
        public var maxDepth: Int
        /// The longest simple string, error or header line, in bytes without CRLF (default 64 KiB).
        public var maxLineLength: Int

        /// Creates limits; each defaults to what a production client would choose.
        public init(
            maxBulkLength: Int = 512 * 1024 * 1024,
            maxArrayCount: Int = 1024 * 1024,
            maxDepth: Int = 16,
            maxLineLength: Int = 64 * 1024
        ) {
            self.maxBulkLength = maxBulkLength
            self.maxArrayCount = maxArrayCount
            self.maxDepth = maxDepth
            self.maxLineLength = maxLineLength
        }
    }

    /// An array being filled: its elements so far and how many are still to come.
    private struct Frame {
        var elements: [RESPValue]
        var remaining: Int
    }

    /// The bounds this decoder enforces.
    public let limits: Limits
    /// The newest chunk; bytes before ``position`` are parsed.
    private var chunk = Bytes.empty
    /// How far ``chunk`` is parsed.
    private var position = 0
    /// The start of a line (type byte and beyond) that arrived without its LF.
    private var carry: [UInt8] = []
    /// A bulk string body split across chunks: its announced length and the bytes so far
    /// (body and then CRLF).
    private var body: (length: Int, bytes: [UInt8])?
    /// The arrays being filled, outermost first.
    private var frames: [Frame] = []
    /// Set once the input is found invalid; every later call throws it.
    private var failure: RESPProtocolError?

    /// Creates a decoder with the given limits.
    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// Bytes received that are not yet part of a returned reply and not yet parsed into one.
    public var bufferedByteCount: Int { chunk.count - position + carry.count + (body?.bytes.count ?? 0) }

    /// True when no reply is partly received: the stream is between replies.
    public var isAtReplyBoundary: Bool { bufferedByteCount == 0 && frames.isEmpty && body == nil }

    /// Adds the next chunk of input.
    public mutating func append(_ next: Bytes) {
        guard next.count > 0 else { return }
        if position == chunk.count {
            chunk = next
        } else {
            chunk = chunk.slice(position..<chunk.count) + next
        }
        position = 0
    }

    /// Returns the next whole reply, or `nil` if more input is needed.
    ///
    /// Throws ``RESPProtocolError`` for input that is not RESP or exceeds ``limits``; the
    /// decoder then stays failed.
    public mutating func next() throws(RESPProtocolError) -> RESPValue? {
        if let failure { throw failure }
        do {
            return try decodeNext()
        } catch {
            failure = error
            throw error
        }
    }

    // Parsing works on the chunk's raw bytes and positions; a `Bytes` (one reference count) is
    // made only for each string value. (Slicing `Bytes` for every line and header costs a
    // retain and a release each, which measured as two thirds of the decoding time.)
    private mutating func decodeNext() throws(RESPProtocolError) -> RESPValue? {
        let chunk = self.chunk
        return try chunk.withUnsafeBytes { (raw) throws(RESPProtocolError) -> RESPValue? in
            while true {
                let value: RESPValue
                if body != nil {
                    guard let bulk = try continueBody(raw) else { return nil }
                    value = .bulkString(bulk)
                } else {
                    guard let parsed = try nextLine(raw, chunk) else { return nil }
                    guard let whole = parsed else { continue }
                    value = whole
                }
                if let reply = complete(value) { return reply }
            }
        }
    }

    /// Parses the next line: `nil` if its LF has not arrived, `.some(nil)` if it opened an
    /// array or a bulk string still to come, else the value.
    private mutating func nextLine(_ raw: UnsafeRawBufferPointer, _ chunk: Bytes) throws(RESPProtocolError) -> RESPValue?? {
        let rest = raw.count - position
        guard rest > 0, let base = raw.baseAddress else { return nil }
        guard let found = memchr(base + position, 0x0A, rest) else {
            carry.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[position...]))
            position = raw.count
            // A trailing CR may be the first half of the terminator, so it does not count yet.
            let length = carry.last == 0x0D ? carry.count - 1 : carry.count
            if length > limits.maxLineLength + 1 {
                throw RESPProtocolError("line longer than the limit of \(limits.maxLineLength) bytes")
            }
            return nil
        }
        let newline = base.distance(to: UnsafeRawPointer(found))
        if carry.isEmpty {
            let start = position
            position = newline + 1
            guard newline > start, raw[newline - 1] == 0x0D else { throw RESPProtocolError("line ends in LF without CR") }
            return .some(try parse(line: UnsafeRawBufferPointer(rebasing: raw[start..<newline - 1]), of: chunk, at: start, raw, chunk))
        }
        carry.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[position...newline]))
        position = newline + 1
        let line = Bytes(carry)
        carry = []
        guard line.count >= 2, line[line.count - 2] == 0x0D else { throw RESPProtocolError("line ends in LF without CR") }
        return .some(
            try line.withUnsafeBytes { (whole) throws(RESPProtocolError) -> RESPValue? in
                try parse(line: UnsafeRawBufferPointer(rebasing: whole[..<(whole.count - 2)]), of: line, at: 0, raw, chunk)
            })
    }

    /// Adds a finished value to the innermost array, closing every array it fills; returns
    /// the whole reply once the outermost is done.
    private mutating func complete(_ value: consuming RESPValue) -> RESPValue? {
        // Moved, never copied: a copy of a value costs a retain and a release of its storage.
        var value = consume value
        while !frames.isEmpty {
            let last = frames.count - 1
            frames[last].elements.append(consume value)
            frames[last].remaining -= 1
            guard frames[last].remaining == 0 else { return nil }
            value = .array(frames.removeLast().elements)
        }
        return value
    }

    /// Parses one line, type byte first, without CRLF; `source` holds it at `offset` (for
    /// string values). A bulk string's body is taken from the chunk (`raw`, `chunk`).
    private mutating func parse(
        line: UnsafeRawBufferPointer, of source: Bytes, at offset: Int, _ raw: UnsafeRawBufferPointer, _ chunk: Bytes
    ) throws(RESPProtocolError) -> RESPValue? {
        guard let type = line.first else { throw RESPProtocolError("empty line where a reply type was expected") }
        if line.count > limits.maxLineLength + 1 {
            throw RESPProtocolError("line longer than the limit of \(limits.maxLineLength) bytes")
        }
        let content = UnsafeRawBufferPointer(rebasing: line[1...])
        switch type {
        case UInt8(ascii: "+"):
            return .simpleString(Bytes(storage: source.storage, offset: source.offset + offset + 1, count: content.count))
        case UInt8(ascii: "-"):
            return .error(Bytes(storage: source.storage, offset: source.offset + offset + 1, count: content.count))
        case UInt8(ascii: ":"):
            return .integer(try Self.integer(content, what: "integer"))
        case UInt8(ascii: "$"):
            let length = try Self.integer(content, what: "bulk string length")
            if length == -1 { return .bulkString(nil) }
            guard length >= 0 else { throw RESPProtocolError("negative bulk string length \(length)") }
            guard length <= limits.maxBulkLength else {
                throw RESPProtocolError("bulk string of \(length) bytes exceeds the limit of \(limits.maxBulkLength)")
            }
            return try startBody(length: Int(length), raw, chunk)
        case UInt8(ascii: "*"):
            let count = try Self.integer(content, what: "array length")
            if count == -1 { return .array(nil) }
            guard count >= 0 else { throw RESPProtocolError("negative array length \(count)") }
            if count == 0 { return .array([]) }
            guard count <= limits.maxArrayCount else {
                throw RESPProtocolError("array of \(count) elements exceeds the limit of \(limits.maxArrayCount)")
            }
            guard frames.count < limits.maxDepth else {
                throw RESPProtocolError("arrays nested deeper than the limit of \(limits.maxDepth)")
            }
            var elements: [RESPValue] = []
            // Reserve for what is announced only up to a small bound: the count is the peer's word.
            elements.reserveCapacity(min(Int(count), 64))
            frames.append(Frame(elements: elements, remaining: Int(count)))
            return nil
        default:
            throw RESPProtocolError("unknown reply type byte \(Self.render(type))")
        }
    }

    /// Takes a bulk string body of `length` bytes plus CRLF: a slice of the chunk when it is
    /// all there, otherwise gathering starts.
    private mutating func startBody(length: Int, _ raw: UnsafeRawBufferPointer, _ chunk: Bytes) throws(RESPProtocolError) -> RESPValue? {
        if raw.count - position >= length + 2 {
            try Self.checkBodyEnd(raw[position + length], raw[position + length + 1])
            let bulk = Bytes(storage: chunk.storage, offset: chunk.offset + position, count: length)
            position += length + 2
            return .bulkString(bulk)
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(min(length + 2, 64 * 1024))
        bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[position...]))
        position = raw.count
        body = (length, bytes)
        return nil
    }

    /// Gathers more of a split bulk string body; the body once whole (CRLF checked).
    private mutating func continueBody(_ raw: UnsafeRawBufferPointer) throws(RESPProtocolError) -> Bytes? {
        guard var state = body else { return nil }
        body = nil  // so that `state.bytes` is uniquely referenced while it grows, never copied
        let taken = min(state.length + 2 - state.bytes.count, raw.count - position)
        if taken > 0 {
            state.bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[position..<position + taken]))
            position += taken
        }
        guard state.bytes.count == state.length + 2 else {
            body = state
            return nil
        }
        try Self.checkBodyEnd(state.bytes[state.length], state.bytes[state.length + 1])
        state.bytes.removeLast(2)
        return Bytes(state.bytes)
    }

    private static func checkBodyEnd(_ first: UInt8, _ second: UInt8) throws(RESPProtocolError) {
        guard first == 0x0D, second == 0x0A else {
            throw RESPProtocolError("bulk string not followed by CRLF (found \(render(first)) \(render(second)))")
        }
    }

    /// A canonical decimal Int64: `0`, or an optional `-` and digits without leading zeros.
    private static func integer(_ digits: UnsafeRawBufferPointer, what: String) throws(RESPProtocolError) -> Int64 {
        if let value = parseInteger(digits) { return value }
        let shown = digits.count > 24 ? String(decoding: digits[..<24], as: UTF8.self) + "..." : String(decoding: digits, as: UTF8.self)
        throw RESPProtocolError("malformed \(what) \"\(shown)\"")
    }

    private static func parseInteger(_ digits: UnsafeRawBufferPointer) -> Int64? {
        guard !digits.isEmpty, digits.count <= 20 else { return nil }
        let negative = digits[0] == UInt8(ascii: "-")
        let start = negative ? 1 : 0
        guard start < digits.count else { return nil }
        if digits[start] == UInt8(ascii: "0") {
            return digits.count == start + 1 && !negative ? 0 : nil
        }
        var magnitude: UInt64 = 0
        for index in start..<digits.count {
            let digit = digits[index] &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            let (times10, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(digit))
            guard !overflow1, !overflow2 else { return nil }
            magnitude = sum
        }
        if negative {
            return magnitude <= UInt64(Int64.max) + 1 ? Int64(truncatingIfNeeded: 0 &- magnitude) : nil
        }
        return magnitude <= UInt64(Int64.max) ? Int64(magnitude) : nil
    }

    /// A byte for an error message: the character if printable ASCII, else its hex value.
    private static func render(_ byte: UInt8) -> String {
        (0x21...0x7E).contains(byte) ? "'\(Character(Unicode.Scalar(byte)))'" : "0x" + String(byte, radix: 16)
    }
}
