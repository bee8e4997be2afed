#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// An immutable, reference-counted run of bytes.
///
/// Copying a `Bytes` value or taking a slice of it never copies the bytes, so one line can be
/// written to many streams at the cost of a reference each. It is `Sendable`: the bytes never
/// change after creation.
///
/// ```swift
/// let line: Bytes = "hello\n"
/// for participant in participants { try participant.write(line) }
/// ```
public struct Bytes: @unchecked Sendable {
    // @unchecked Sendable: the storage is written once, before any Bytes shares it, then only read.
    @usableFromInline package let storage: ByteStorage
    @usableFromInline package let offset: Int
    /// The number of bytes.
    public let count: Int

    @inlinable package init(storage: ByteStorage, offset: Int, count: Int) {
        self.storage = storage
        self.offset = offset
        self.count = count
    }

    /// Copies the given bytes.
    public init(_ bytes: UnsafeRawBufferPointer) {
        storage = ByteStorage.make(copying: bytes)
        offset = 0
        count = bytes.count
    }

    /// Copies the bytes of a sequence.
    public init<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
        let array = Array(bytes)
        self = array.withUnsafeBytes { Bytes($0) }
    }

    /// The UTF-8 encoding of a string.
    public init(_ string: String) {
        var string = string
        self = string.withUTF8 { Bytes(UnsafeRawBufferPointer($0)) }
    }

    /// No bytes.
    public init() {
        self = Bytes.empty
    }

    package static let empty = Bytes(UnsafeRawBufferPointer(start: nil, count: 0))

    /// Calls `body` with the bytes; the pointer is valid only inside `body`.
    @inlinable public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try storage.withBase { (base) throws(E) -> R in
            try body(UnsafeRawBufferPointer(start: base + offset, count: count))
        }
    }

    /// The bytes from `range` (positions relative to the start), sharing storage.
    @inlinable public func slice(_ range: Range<Int>) -> Bytes {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "Bytes.slice out of range")
        return Bytes(storage: storage, offset: offset + range.lowerBound, count: range.count)
    }

    /// The position of the first `byte`, if any.
    public func firstIndex(of byte: UInt8) -> Int? {
        withUnsafeBytes { buffer -> Int? in
            guard let base = buffer.baseAddress, count > 0,
                let found = memchr(base, Int32(byte), count)
            else { return nil }
            return base.distance(to: UnsafeRawPointer(found))
        }
    }

    /// The bytes decoded as UTF-8, with invalid sequences replaced by U+FFFD.
    public var string: String {
        withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
    }

    /// The bytes as an array.
    public var array: [UInt8] { withUnsafeBytes { Array($0) } }

    /// A new `Bytes` holding these bytes followed by `other`'s.
    public static func + (lhs: Bytes, rhs: Bytes) -> Bytes {
        lhs.withUnsafeBytes { left in
            rhs.withUnsafeBytes { right in
                let storage = ByteStorage.make(capacity: left.count + right.count)
                storage.withBase { base in
                    if left.count > 0 { base.copyMemory(from: left.baseAddress!, byteCount: left.count) }
                    if right.count > 0 { (base + left.count).copyMemory(from: right.baseAddress!, byteCount: right.count) }
                }
                return Bytes(storage: storage, offset: 0, count: left.count + right.count)
            }
        }
    }
}

extension Bytes: RandomAccessCollection {
    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { count }
    @inlinable public subscript(position: Int) -> UInt8 {
        precondition(position >= 0 && position < count, "Bytes index out of range")
        return storage.withBase { $0.load(fromByteOffset: offset + position, as: UInt8.self) }
    }
}

extension Bytes: Equatable, Hashable {
    public static func == (lhs: Bytes, rhs: Bytes) -> Bool {
        // The same slice of the same storage (a line written to many streams) needs no compare.
        if lhs.storage === rhs.storage && lhs.offset == rhs.offset && lhs.count == rhs.count { return true }
        return lhs.count == rhs.count
            && lhs.withUnsafeBytes { l in rhs.withUnsafeBytes { r in l.count == 0 || memcmp(l.baseAddress!, r.baseAddress!, l.count) == 0 }
            }
    }

    public func hash(into hasher: inout Hasher) {
        withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}

extension Bytes: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { self.init(value) }
}

extension Bytes: CustomStringConvertible {
    public var description: String { string }
}

/// The heap block behind `Bytes`: a header-less tail-allocated byte array, written only while
/// it is being made.
@usableFromInline package final class ByteStorage: ManagedBuffer<Int, UInt8> {
    package static func make(capacity: Int) -> ByteStorage {
        // unsafeDowncast: `create` called on a subclass returns an instance of that subclass.
        unsafeDowncast(ByteStorage.create(minimumCapacity: capacity) { _ in capacity }, to: ByteStorage.self)
    }

    package static func make(copying bytes: UnsafeRawBufferPointer) -> ByteStorage {
        let storage = make(capacity: bytes.count)
        if let source = bytes.baseAddress, bytes.count > 0 {
            storage.withBase { $0.copyMemory(from: source, byteCount: bytes.count) }
        }
        return storage
    }

    @inlinable package func withBase<R, E: Error>(_ body: (UnsafeMutableRawPointer) throws(E) -> R) throws(E) -> R {
        try withUnsafeMutablePointerToElements { (elements) throws(E) -> R in try body(UnsafeMutableRawPointer(elements)) }
    }
}
