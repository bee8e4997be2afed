import CZlib

/// Compresses messages for permessage-deflate (RFC 7692 §7.2.1): raw deflate, each message
/// flushed to a byte boundary and its `00 00 ff ff` tail removed.
///
/// zlib cannot compress with a 256-byte window (windowBits 8 for raw deflate is refused), so a
/// negotiated 8 uses 9: zlib's deflate never emits a distance over `2^bits - 262` bytes, 250 at
/// 9, so a peer with a 256-byte window still decodes every message.
///
/// Owned by one connection; not thread-safe.
public final class WebSocketDeflater {
    /// Allocated once and never moved (zlib's state points back to it); freed in deinit.
    private let stream: UnsafeMutablePointer<z_stream>
    private let resetsAfterMessage: Bool

    /// A compressor with a `2^windowBits`-byte window (8...15), or nil if zlib refuses.
    /// With `noContextTakeover`, each message is compressed as if it were the first.
    public init?(windowBits: Int, level: Int32 = 6, memoryLevel: Int32 = 8, noContextTakeover: Bool) {
        stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        resetsAfterMessage = noContextTakeover
        let bits = Int32(min(max(windowBits, 9), 15))
        guard czlib_deflate_init(stream, level, -bits, memoryLevel) == Z_OK else {
            stream.deallocate()
            return nil
        }
    }

    deinit {
        deflateEnd(stream)
        stream.deallocate()
    }

    /// The compressed form of one whole message, ready to send with RSV1 set.
    public func compress(_ message: UnsafeRawBufferPointer) -> Bytes {
        var output = [UInt8](repeating: 0, count: Int(deflateBound(stream, uLong(message.count))) + 64)
        var used = 0
        stream.pointee.next_in = UnsafeMutablePointer(mutating: message.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(message.count)
        while true {
            if used == output.count { output.append(contentsOf: repeatElement(0, count: max(1024, output.count / 2))) }
            let room = output.count - used
            output.withUnsafeMutableBytes { buffer in
                stream.pointee.next_out = buffer.baseAddress!.assumingMemoryBound(to: Bytef.self) + used
                stream.pointee.avail_out = uInt(room)
                // Z_SYNC_FLUSH never fails on a valid stream with room to write; Z_BUF_ERROR only
                // means there was nothing left to do.
                _ = deflate(stream, Z_SYNC_FLUSH)
            }
            used += room - Int(stream.pointee.avail_out)
            // Done once all input is taken and zlib left output room unused (the flush is complete).
            if stream.pointee.avail_in == 0 && stream.pointee.avail_out > 0 { break }
        }
        stream.pointee.next_in = nil
        stream.pointee.next_out = nil
        if used >= 4 && output[used - 4] == 0 && output[used - 3] == 0 && output[used - 2] == 0xFF && output[used - 1] == 0xFF {
            used -= 4
        }
        if resetsAfterMessage { deflateReset(stream) }
        // zlib writes nothing for an empty message right after a flush; RFC 7692 §7.2.3.6's
        // single 0x00 byte (an empty stored block's header, once the tail is added back) is sent.
        if used == 0 { return Bytes([0x00]) }
        return output.withUnsafeBytes { Bytes(UnsafeRawBufferPointer(rebasing: $0[0..<used])) }
    }

    /// Compresses one whole message.
    public func compress(_ message: Bytes) -> Bytes {
        message.withUnsafeBytes { compress($0) }
    }
}
