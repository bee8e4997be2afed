/// The XOR masking of RFC 6455 §5.3, which is its own inverse.
public enum WebSocketMasking {
    /// XORs `buffer` with the 4-byte `key` (network order), as if the buffer started `offset`
    /// bytes into the payload; returns nothing, the buffer is changed in place.
    public static func apply(key: UInt32, to buffer: UnsafeMutableRawBufferPointer, offset: Int = 0) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        let keyBytes: [UInt8] = [
            UInt8(key >> 24), UInt8(truncatingIfNeeded: key >> 16), UInt8(truncatingIfNeeded: key >> 8), UInt8(truncatingIfNeeded: key),
        ]
        var index = 0
        // Byte by byte until the key is aligned to the start, then eight bytes at a time.
        let count = buffer.count
        while index < count && (offset + index) & 3 != 0 {
            base.storeBytes(
                of: base.load(fromByteOffset: index, as: UInt8.self) ^ keyBytes[(offset + index) & 3], toByteOffset: index, as: UInt8.self)
            index += 1
        }
        // The key as it lies in memory: bytes k0 k1 k2 k3 k0 k1 k2 k3.
        var word: UInt64 = 0
        withUnsafeMutableBytes(of: &word) { raw in
            for position in 0..<8 { raw[position] = keyBytes[position & 3] }
        }
        while index + 8 <= count {
            let value = base.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            base.storeBytes(of: value ^ word, toByteOffset: index, as: UInt64.self)
            index += 8
        }
        while index < count {
            base.storeBytes(
                of: base.load(fromByteOffset: index, as: UInt8.self) ^ keyBytes[(offset + index) & 3], toByteOffset: index, as: UInt8.self)
            index += 1
        }
    }
}
