#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The header fields of an ``HTTPRawHead``, in order: a view of the head's bytes that reads
/// each field from its line when it is accessed, so a head carries no array of fields.
///
/// ```swift
/// for field in head.fields where field.hasName("accept") { print(field.value) }
/// ```
public struct HTTPRawFields: Collection, Sendable {
    /// The position of a field: where its line starts in the head.
    public struct Index: Comparable, Sendable {
        let offset: Int

        public static func < (lhs: Index, rhs: Index) -> Bool { lhs.offset < rhs.offset }
    }

    /// The head. Invariant (the parser checked it): `start..<end` is a run of field lines,
    /// each `name ":" OWS value OWS CRLF` with a token name and no CR inside, and `count` of them.
    let bytes: Bytes
    let start: Int
    let end: Int
    /// The number of fields.
    public let count: Int

    init(bytes: Bytes, start: Int, end: Int, count: Int) {
        self.bytes = bytes
        self.start = start
        self.end = end
        self.count = count
    }

    /// The first field's position.
    public var startIndex: Index { Index(offset: start) }

    /// The position past the last field.
    public var endIndex: Index { Index(offset: end) }

    /// The position of the field after the one at `index`.
    public func index(after index: Index) -> Index {
        Index(offset: lineEnd(from: index.offset) + 2)
    }

    /// The field at `index`, sharing the head's buffer.
    public subscript(index: Index) -> HTTPRawField {
        precondition(index.offset >= start && index.offset < end, "HTTPRawFields index out of range")
        return bytes.withUnsafeBytes { buffer in
            let lineStart = index.offset
            let lineEnd = lineEnd(from: lineStart)
            // Force-unwraps: a field line holds a colon (the invariant), and so a base address.
            let colon = buffer.baseAddress!.distance(
                to: UnsafeRawPointer(memchr(buffer.baseAddress! + lineStart, Int32(HTTPSyntax.colon), lineEnd - lineStart)!))
            var valueStart = colon + 1
            while valueStart < lineEnd && HTTPSyntax.isWhitespace(buffer[valueStart]) { valueStart += 1 }
            var valueEnd = lineEnd
            while valueEnd > valueStart && HTTPSyntax.isWhitespace(buffer[valueEnd - 1]) { valueEnd -= 1 }
            return HTTPRawField(
                name: Bytes(storage: bytes.storage, offset: bytes.offset + lineStart, count: colon - lineStart),
                value: Bytes(storage: bytes.storage, offset: bytes.offset + valueStart, count: valueEnd - valueStart))
        }
    }

    /// The index of the CR ending the line that starts at `offset` (one of the field lines).
    private func lineEnd(from offset: Int) -> Int {
        bytes.withUnsafeBytes { buffer in
            // Force-unwraps: a field line ends with CRLF (the invariant).
            let base = buffer.baseAddress!
            return base.distance(to: UnsafeRawPointer(memchr(base + offset, Int32(HTTPSyntax.cr), end - offset)!))
        }
    }
}
