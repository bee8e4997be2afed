/// Writes frames in RFC 6455 wire form: the header, then the payload, masked if a key is given.
///
/// A client passes a fresh random key for each frame (``WebSocketFrameEncoder/randomMaskingKey()``);
/// a server passes nil. The encoder does not check the frame: callers keep control frames at
/// most 125 bytes.
public enum WebSocketFrameEncoder {
    /// The header of a frame carrying `payloadLength` bytes, with the masking key if any.
    public static func header(
        opcode: WebSocketOpcode, payloadLength: Int, isFinal: Bool = true, reservedBits: UInt8 = 0, maskingKey: UInt32? = nil
    ) -> [UInt8] {
        var header: [UInt8] = []
        header.reserveCapacity(14)
        header.append((isFinal ? 0x80 : 0) | (reservedBits & 0x7) << 4 | opcode.rawValue)
        let maskBit: UInt8 = maskingKey == nil ? 0 : 0x80
        if payloadLength < 126 {
            header.append(maskBit | UInt8(payloadLength))
        } else if payloadLength <= 0xFFFF {
            header.append(maskBit | 126)
            header.append(UInt8(payloadLength >> 8))
            header.append(UInt8(truncatingIfNeeded: payloadLength))
        } else {
            header.append(maskBit | 127)
            let length = UInt64(payloadLength)
            for shift in stride(from: 56, through: 0, by: -8) { header.append(UInt8(truncatingIfNeeded: length >> UInt64(shift))) }
        }
        if let key = maskingKey {
            for shift in stride(from: 24, through: 0, by: -8) { header.append(UInt8(truncatingIfNeeded: key >> UInt32(shift))) }
        }
        return header
    }

    /// The whole frame, header and payload, in one run of bytes; masked with `maskingKey` if given.
    public static func encode(_ frame: WebSocketFrame, maskingKey: UInt32? = nil) -> Bytes {
        frame.payload.withUnsafeBytes { payload in
            encode(
                opcode: frame.opcode, payload: payload, isFinal: frame.isFinal, reservedBits: frame.reservedBits,
                maskingKey: maskingKey)
        }
    }

    /// A frame of `payload`, header and payload in one run of bytes (one allocation, the
    /// header written in place); masked with `maskingKey` if given. Lets a sender frame bytes
    /// it holds in another form (a `String`'s UTF-8) without making `Bytes` of them first.
    public static func encode(
        opcode: WebSocketOpcode, payload: UnsafeRawBufferPointer, isFinal: Bool = true, reservedBits: UInt8 = 0,
        maskingKey: UInt32? = nil
    ) -> Bytes {
        let count = payload.count
        let headerLength = 2 + (count < 126 ? 0 : count <= 0xFFFF ? 2 : 8) + (maskingKey == nil ? 0 : 4)
        let total = headerLength + count
        let storage = ByteStorage.make(capacity: total)
        storage.withBase { base in
            let maskBit: UInt8 = maskingKey == nil ? 0 : 0x80
            base.storeBytes(of: (isFinal ? 0x80 : 0) | (reservedBits & 0x7) << 4 | opcode.rawValue, as: UInt8.self)
            var at = 2
            if count < 126 {
                base.storeBytes(of: maskBit | UInt8(count), toByteOffset: 1, as: UInt8.self)
            } else if count <= 0xFFFF {
                base.storeBytes(of: maskBit | 126, toByteOffset: 1, as: UInt8.self)
                base.storeBytes(of: UInt16(count).bigEndian, toByteOffset: 2, as: UInt16.self)
                at = 4
            } else {
                base.storeBytes(of: maskBit | 127, toByteOffset: 1, as: UInt8.self)
                base.storeBytes(of: UInt64(count).bigEndian, toByteOffset: 2, as: UInt64.self)
                at = 10
            }
            if let key = maskingKey {
                base.storeBytes(of: key.bigEndian, toByteOffset: at, as: UInt32.self)
                at += 4
            }
            guard let source = payload.baseAddress, count > 0 else { return }
            (base + at).copyMemory(from: source, byteCount: count)
            if let key = maskingKey {
                WebSocketMasking.apply(key: key, to: UnsafeMutableRawBufferPointer(start: base + at, count: count))
            }
        }
        return Bytes(storage: storage, offset: 0, count: total)
    }

    /// A masking key from the system's random source, as RFC 6455 §5.3 requires of clients.
    public static func randomMaskingKey() -> UInt32 {
        var generator = SystemRandomNumberGenerator()
        return generator.next()
    }
}
