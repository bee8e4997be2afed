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
    /// The unscanned rest of the newest chunk.
    private var buffered = Bytes.empty
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
    public var bufferedByteCount: Int { buffered.count + carry.count + (body?.bytes.count ?? 0) }

    /// True when no reply is partly received: the stream is between replies.
    public var isAtReplyBoundary: Bool { bufferedByteCount == 0 && frames.isEmpty && body == nil }

    /// Adds the next chunk of input.
    public mutating func append(_ chunk: Bytes) {
        guard chunk.count > 0 else { return }
        buffered = buffered.count == 0 ? chunk : buffered + chunk
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

    private mutating func decodeNext() throws(RESPProtocolError) -> RESPValue? {
        while true {
            let value: RESPValue
            if body != nil {
                guard let bulk = try continueBody() else { return nil }
                value = .bulkString(bulk)
            } else {
                guard let line = try takeLine() else { return nil }
                guard let parsed = try parse(line: line) else { continue }
                value = parsed
            }
            if let reply = complete(value) { return reply }
        }
    }

    /// Adds a finished value to the innermost array, closing every array it fills; returns
    /// the whole reply once the outermost is done.
    private mutating func complete(_ value: RESPValue) -> RESPValue? {
        var value = value
        while !frames.isEmpty {
            let last = frames.count - 1
            frames[last].elements.append(value)
            frames[last].remaining -= 1
            guard frames[last].remaining == 0 else { return nil }
            value = .array(frames.removeLast().elements)
        }
        return value
    }

    /// Parses one line (without CRLF): a whole value, or `nil` when it opened an array or a bulk
    /// string whose body is still to come.
    private mutating func parse(line: Bytes) throws(RESPProtocolError) -> RESPValue? {
        guard let type = line.first else { throw RESPProtocolError("empty line where a reply type was expected") }
        let content = line.slice(1..<line.count)
        switch type {
        case UInt8(ascii: "+"):
            return .simpleString(content)
        case UInt8(ascii: "-"):
            return .error(content)
        case UInt8(ascii: ":"):
            return .integer(try Self.integer(content, what: "integer"))
        case UInt8(ascii: "$"):
            let length = try Self.integer(content, what: "bulk string length")
            if length == -1 { return .bulkString(nil) }
            guard length >= 0 else { throw RESPProtocolError("negative bulk string length \(length)") }
            guard length <= limits.maxBulkLength else {
                throw RESPProtocolError("bulk string of \(length) bytes exceeds the limit of \(limits.maxBulkLength)")
            }
            return try startBody(length: Int(length))
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
    private mutating func startBody(length: Int) throws(RESPProtocolError) -> RESPValue? {
        if buffered.count >= length + 2 {
            try Self.checkBodyEnd(buffered[length], buffered[length + 1])
            let bulk = buffered.slice(0..<length)
            buffered = buffered.slice(length + 2..<buffered.count)
            return .bulkString(bulk)
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(min(length + 2, 64 * 1024))
        buffered.withUnsafeBytes { bytes.append(contentsOf: $0) }
        buffered = .empty
        body = (length, bytes)
        return nil
    }

    /// Gathers more of a split bulk string body; the body once whole (CRLF checked).
    private mutating func continueBody() throws(RESPProtocolError) -> Bytes? {
        guard var state = body else { return nil }
        body = nil  // so that `state.bytes` is uniquely referenced while it grows, never copied
        let taken = min(state.length + 2 - state.bytes.count, buffered.count)
        if taken > 0 {
            buffered.slice(0..<taken).withUnsafeBytes { state.bytes.append(contentsOf: $0) }
            buffered = buffered.slice(taken..<buffered.count)
        }
        guard state.bytes.count == state.length + 2 else {
            body = state
            return nil
        }
        try Self.checkBodyEnd(state.bytes[state.length], state.bytes[state.length + 1])
        state.bytes.removeLast(2)
        return Bytes(state.bytes)
    }

    /// The next line without its CRLF, or `nil` if its LF has not arrived.
    private mutating func takeLine() throws(RESPProtocolError) -> Bytes? {
        guard let newline = buffered.firstIndex(of: 0x0A) else {
            buffered.withUnsafeBytes { carry.append(contentsOf: $0) }
            buffered = .empty
            // A trailing CR may be the first half of the terminator, so it does not count yet.
            let length = carry.last == 0x0D ? carry.count - 1 : carry.count
            if length > limits.maxLineLength + 1 {
                throw RESPProtocolError("line longer than the limit of \(limits.maxLineLength) bytes")
            }
            return nil
        }
        var line: Bytes
        if carry.isEmpty {
            line = buffered.slice(0..<newline + 1)
        } else {
            buffered.slice(0..<newline + 1).withUnsafeBytes { carry.append(contentsOf: $0) }
            line = Bytes(carry)
            carry = []
        }
        buffered = buffered.slice(newline + 1..<buffered.count)
        guard line.count >= 2, line[line.count - 2] == 0x0D else {
            throw RESPProtocolError("line ends in LF without CR")
        }
        line = line.slice(0..<line.count - 2)
        if line.count > limits.maxLineLength + 1 {
            throw RESPProtocolError("line longer than the limit of \(limits.maxLineLength) bytes")
        }
        return line
    }

    private static func checkBodyEnd(_ first: UInt8, _ second: UInt8) throws(RESPProtocolError) {
        guard first == 0x0D, second == 0x0A else {
            throw RESPProtocolError("bulk string not followed by CRLF (found \(render(first)) \(render(second)))")
        }
    }

    /// A canonical decimal Int64: `0`, or an optional `-` and digits without leading zeros.
    private static func integer(_ text: Bytes, what: String) throws(RESPProtocolError) -> Int64 {
        let parsed = text.withUnsafeBytes { digits -> Int64? in
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
        guard let parsed else {
            let shown = text.count > 24 ? String(decoding: text.slice(0..<24), as: UTF8.self) + "..." : text.string
            throw RESPProtocolError("malformed \(what) \"\(shown)\"")
        }
        return parsed
    }

    /// A byte for an error message: the character if printable ASCII, else its hex value.
    private static func render(_ byte: UInt8) -> String {
        (0x21...0x7E).contains(byte) ? "'\(Character(Unicode.Scalar(byte)))'" : "0x" + String(byte, radix: 16)
    }
}
