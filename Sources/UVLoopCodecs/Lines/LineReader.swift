/// Thrown when a line is longer than a reader's maximum.
///
/// The overlong line is dropped: the reader discards its bytes up to and including the next
/// newline, so the next read returns the line after it and the stream stays usable.
public struct LineTooLongError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The maximum line length in bytes, not counting the line terminator.
    public let limit: Int
    /// Creates the error for a reader whose maximum is `limit` bytes.
    public init(limit: Int) { self.limit = limit }
    public var description: String { "line longer than \(limit) bytes" }
}

/// Splits bytes into lines: LF or CRLF terminated, split across any chunking, with a maximum
/// length.
///
/// Streams use one inside ``Stream/readLine()``; it also works on its own:
///
/// ```swift
/// var reader = LineReader(maxLineLength: 4096)
/// reader.append("hel")
/// reader.append("lo\r\nwor")
/// try reader.nextLine()   // "hello\r\n"
/// reader.finish()         // "wor" — a final line without a newline
/// ```
///
/// Lines are returned with their terminator, sharing the storage of the chunk they came in when
/// they lie within one chunk (no copy); a line split across chunks is copied once.
public struct LineReader {
    /// The longest line accepted, in bytes, not counting the terminator.
    public let maxLineLength: Int
    /// Bytes of an unfinished line that arrived in earlier chunks (no newline among them).
    private var carry: [UInt8] = []
    /// The unscanned rest of the newest chunk.
    private var buffered = Bytes.empty
    /// True while dropping the rest of an overlong line, up to its newline.
    private var isDiscarding = false

    /// Creates a reader that accepts lines of at most `maxLineLength` bytes.
    public init(maxLineLength: Int = 64 * 1024) {
        precondition(maxLineLength > 0, "maxLineLength must be positive")
        self.maxLineLength = maxLineLength
    }

    /// Bytes held that are not yet part of a returned line.
    public var bufferedByteCount: Int { carry.count + buffered.count }

    /// Adds the next chunk of input.
    public mutating func append(_ chunk: Bytes) {
        guard chunk.count > 0 else { return }
        if buffered.count == 0 {
            buffered = chunk
        } else {
            buffered = buffered + chunk
        }
    }

    /// Returns the next complete line, terminator included, or `nil` if more input is needed.
    ///
    /// Throws ``LineTooLongError`` once for each line longer than ``maxLineLength``; that line
    /// is dropped up to its newline.
    public mutating func nextLine() throws(LineTooLongError) -> Bytes? {
        while true {
            guard let newline = buffered.firstIndex(of: 0x0A) else {
                try absorbPartial()
                return nil
            }
            let piece = buffered.slice(0..<newline + 1)
            buffered = buffered.slice(newline + 1..<buffered.count)
            if isDiscarding {
                isDiscarding = false
                continue
            }
            let line: Bytes
            if carry.isEmpty {
                line = piece
            } else {
                piece.withUnsafeBytes { carry.append(contentsOf: $0) }
                line = Bytes(carry)
                carry = []
            }
            if Self.contentLength(of: line) > maxLineLength {
                throw LineTooLongError(limit: maxLineLength)
            }
            return line
        }
    }

    /// At end of input: the final line without a newline, if any; the reader is then empty.
    public mutating func finish() -> Bytes? {
        defer {
            carry = []
            buffered = .empty
            isDiscarding = false
        }
        if isDiscarding || bufferedByteCount == 0 { return nil }
        let rest = carry.isEmpty ? buffered : Bytes(carry) + buffered
        return rest.count > maxLineLength ? nil : rest
    }

    /// Removes and returns every byte held (for raw reads); `nil` when empty.
    public mutating func takeAll() -> Bytes? {
        guard bufferedByteCount > 0 else { return nil }
        let all = carry.isEmpty ? buffered : Bytes(carry) + buffered
        carry = []
        buffered = .empty
        return all
    }

    /// Moves a chunk tail without newline into `carry`, or drops it while discarding.
    private mutating func absorbPartial() throws(LineTooLongError) {
        guard buffered.count > 0 else { return }
        if isDiscarding {
            buffered = .empty
            return
        }
        buffered.withUnsafeBytes { carry.append(contentsOf: $0) }
        buffered = .empty
        // A trailing CR may be the first half of a CRLF terminator, so it does not count yet.
        let length = carry.last == 0x0D ? carry.count - 1 : carry.count
        if length > maxLineLength {
            carry = []
            isDiscarding = true
            throw LineTooLongError(limit: maxLineLength)
        }
    }

    /// A line's length without its LF or CRLF terminator.
    static func contentLength(of line: Bytes) -> Int {
        var length = line.count
        if length > 0 && line[length - 1] == 0x0A { length -= 1 }
        if length > 0 && line[length - 1] == 0x0D { length -= 1 }
        return length
    }

    /// The line without its LF or CRLF terminator.
    public static func trimmingTerminator(_ line: Bytes) -> Bytes {
        line.slice(0..<contentLength(of: line))
    }
}
