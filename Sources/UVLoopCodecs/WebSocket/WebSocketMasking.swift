/// The XOR masking of RFC 6455 §5.3, which is its own inverse.
public enum WebSocketMasking {
    /// XORs `buffer` with the 4-byte `key` (network order), as if the buffer started `offset`
    /// bytes into the payload; returns nothing, the buffer is changed in place.
    public static func apply(key: UInt32, to buffer: UnsafeMutableRawBufferPointer, offset: Int = 0) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        // The key's bytes in wire order (k0 first), and the key as it lies in memory twice over:
        // bytes k0 k1 k2 k3 k0 k1 k2 k3, whatever the machine's byte order. No array: this runs
        // once per received frame.
        let keyInMemory = UInt64(key.bigEndian)
        let word = keyInMemory | keyInMemory << 32
        func keyByte(_ position: Int) -> UInt8 { UInt8(truncatingIfNeeded: key >> UInt32(24 - 8 * (position & 3))) }
        var index = 0
        // Byte by byte until the key is aligned to the start, then eight bytes at a time.
        let count = buffer.count
        while index < count && (offset + index) & 3 != 0 {
            let byte = base.load(fromByteOffset: index, as: UInt8.self)
            base.storeBytes(of: byte ^ keyByte(offset + index), toByteOffset: index, as: UInt8.self)
            index += 1
        }
        while index + 8 <= count {
            let value = base.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            base.storeBytes(of: value ^ word, toByteOffset: index, as: UInt64.self)
            index += 8
        }
        while index < count {
            let byte = base.load(fromByteOffset: index, as: UInt8.self)
            base.storeBytes(of: byte ^ keyByte(offset + index), toByteOffset: index, as: UInt8.self)
            index += 1
        }
    }
}
