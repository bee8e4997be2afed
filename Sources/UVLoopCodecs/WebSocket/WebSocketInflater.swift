import CZlib

/// Decompresses permessage-deflate messages (RFC 7692 §7.2.2), frame by frame, with the output
/// bounded so that a small compressed message cannot expand past the size limit (zip bombs).
///
/// It always inflates with a 32 KiB window, which decodes any smaller window too.
/// Owned by one connection; not thread-safe.
public final class WebSocketInflater {
    /// Allocated once and never moved (zlib's state points back to it); freed in deinit.
    private let stream: UnsafeMutablePointer<z_stream>
    private let resetsAfterMessage: Bool
    private static let tail: [UInt8] = [0x00, 0x00, 0xFF, 0xFF]

    /// A decompressor; with `noContextTakeover` (the peer resets its window), it resets too
    /// after each message, which keeps no history between messages.
    public init?(noContextTakeover: Bool) {
        stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        resetsAfterMessage = noContextTakeover
        guard czlib_inflate_init(stream, -15) == Z_OK else {
            stream.deallocate()
            return nil
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
    }

    /// Decompresses one frame's payload, appending to `output`; throws 1009 if `output` would
    /// pass `limit` bytes and 1007 if the data is not valid deflate.
    public func decompress(_ input: UnsafeRawBufferPointer, into output: inout [UInt8], limit: Int) throws(WebSocketProtocolError) {
        guard input.count > 0 else { return }
        stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(input.count)
        defer {
            stream.pointee.next_in = nil
            stream.pointee.next_out = nil
        }
        while true {
            let old = output.count
            let room = max(1, min(64 * 1024, max(4 * input.count, 4096), limit + 1 - old))
            output.append(contentsOf: repeatElement(0, count: room))
            let status = output.withUnsafeMutableBytes { buffer in
                stream.pointee.next_out = buffer.baseAddress!.assumingMemoryBound(to: Bytef.self) + old
                stream.pointee.avail_out = uInt(room)
                return inflate(stream, Z_SYNC_FLUSH)
            }
            let unused = Int(stream.pointee.avail_out)
            output.removeLast(unused)
            if output.count > limit {
                throw WebSocketProtocolError(.messageTooBig, "compressed message inflates past \(limit) bytes")
            }
            switch status {
            case Z_OK, Z_BUF_ERROR:
                if stream.pointee.avail_in == 0 && unused > 0 { return }
                if status == Z_BUF_ERROR && unused > 0 {
                    throw WebSocketProtocolError(.invalidPayload, "compressed data makes no progress")
                }
            case Z_STREAM_END:
                // The peer ended its deflate stream (BFINAL); what follows starts a new one.
                inflateReset(stream)
                if stream.pointee.avail_in == 0 { return }
            default:
                let message = stream.pointee.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                throw WebSocketProtocolError(.invalidPayload, "invalid compressed data: \(message)")
            }
        }
    }

    /// Ends a message: feeds the `00 00 ff ff` tail the sender removed and, without context
    /// takeover, resets the window.
    public func finishMessage(into output: inout [UInt8], limit: Int) throws(WebSocketProtocolError) {
        let result = Self.tail.withUnsafeBytes { tail -> Result<Void, WebSocketProtocolError> in
            do throws(WebSocketProtocolError) {
                try decompress(tail, into: &output, limit: limit)
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try result.get()
        if resetsAfterMessage { inflateReset(stream) }
    }
}
