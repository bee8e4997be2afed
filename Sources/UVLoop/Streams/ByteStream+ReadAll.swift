/// Thrown when a stream or file holds more bytes than the limit its reader set, so that a peer,
/// a child process or a file cannot make a reader hold unbounded memory.
public struct ByteLimitExceededError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The limit, in bytes.
    public let limit: Int
    /// What was being read: a stream's description, a path, `stdout of ls`.
    public let source: String

    /// Creates the error for `source`, which went over `limit` bytes.
    public init(limit: Int, source: String) {
        self.limit = limit
        self.source = source
    }

    /// `stdout of ls has more than 1048576 bytes (the limit)`.
    public var description: String { "\(source) has more than \(limit) bytes (the limit)" }
}

extension ByteStream {
    /// Reads until the end of the stream and returns every byte, in one buffer.
    ///
    /// Throws ``ByteLimitExceededError`` as soon as more than `limit` bytes arrive (the stream
    /// is left open: close it), what ``read()`` throws, or `CancellationError`.
    ///
    /// ```swift
    /// let body = try await stream.readAll(limit: 1 << 20)
    /// ```
    public func readAll(limit: Int = 16 << 20) async throws -> Bytes {
        var chunks: [Bytes] = []
        var total = 0
        while let chunk = try await read() {
            total += chunk.count
            if total > limit { throw ByteLimitExceededError(limit: limit, source: description) }
            chunks.append(chunk)
        }
        switch chunks.count {
        case 0: return Bytes()
        case 1: return chunks[0]
        default: return Bytes(concatenating: chunks)
        }
    }
}
