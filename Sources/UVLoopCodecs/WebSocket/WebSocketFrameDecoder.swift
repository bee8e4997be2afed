/// Turns received bytes, in chunks of any size, into frames, enforcing RFC 6455's frame rules.
///
/// It checks, as soon as the bytes that decide it have arrived: the opcode is known; reserved
/// bits are set only when an extension allows them (``allowedReservedBits``) and never on control
/// frames; control frames are final and at most 125 bytes; a 64-bit length has its top bit
/// clear; masking follows the role (a server needs masked frames, a client unmasked ones); a payload is at
/// most ``maxPayloadLength``. Any breach throws ``WebSocketProtocolError`` and the decoder stays
/// failed. Message-level rules (fragment order, UTF-8, close codes) are
/// ``WebSocketMessageAssembler``'s.
///
/// ```swift
/// var decoder = WebSocketFrameDecoder(role: .server)
/// decoder.append(chunk)
/// while let frame = try decoder.nextFrame() { ... }
/// ```
public struct WebSocketFrameDecoder {
    /// This end's role: `.server` requires masked frames, `.client` unmasked ones.
    public let role: WebSocketRole
    /// The largest payload accepted in one frame; larger throws 1009 (message too big).
    public var maxPayloadLength: Int
    /// The reserved bits an extension negotiated (permessage-deflate: ``WebSocketFrame/rsv1``).
    public var allowedReservedBits: UInt8 = 0

    private var buffer: [UInt8] = []
    private var start = 0
    private var failure: WebSocketProtocolError?
    /// Payload bytes of the incomplete frame at `start` already given by `takePartialPayload`.
    private var partialDelivered = 0

    /// A decoder for the given end, with payloads limited to `maxPayloadLength` bytes.
    public init(role: WebSocketRole, maxPayloadLength: Int = 16 * 1024 * 1024) {
        self.role = role
        self.maxPayloadLength = maxPayloadLength
    }

    /// Bytes received but not yet returned as a frame.
    public var bufferedByteCount: Int { buffer.count - start }

    /// Adds received bytes.
    public mutating func append(_ bytes: Bytes) {
        if start > 0 && (start >= buffer.count || start >= 64 * 1024) {
            buffer.removeSubrange(0..<start)
            start = 0
        }
        bytes.withUnsafeBytes { buffer.append(contentsOf: $0) }
    }

    /// Adds received bytes.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        append(Bytes(bytes))
    }

    /// The next complete frame, or nil until more bytes arrive.
    public mutating func nextFrame() throws(WebSocketProtocolError) -> WebSocketFrame? {
        if let failure { throw failure }
        do {
            return try parse()
        } catch {
            failure = error
            throw error
        }
    }

    /// A frame header: what it says and how long it is.
    private struct Header {
        var isFinal: Bool
        var reserved: UInt8
        var opcode: WebSocketOpcode
        var key: UInt32?
        var headerLength: Int
        var length: Int
    }

    /// The header of the frame at `start`, validated; nil until all its bytes are here.
    private func header() throws(WebSocketProtocolError) -> Header? {
        let available = buffer.count - start
        guard available >= 2 else { return nil }
        let first = buffer[start]
        let second = buffer[start + 1]
        let isFinal = first & 0x80 != 0
        let reserved = (first >> 4) & 0x7
        guard let opcode = WebSocketOpcode(rawValue: first & 0xF) else {
            throw WebSocketProtocolError(.protocolError, "reserved opcode \(first & 0xF)")
        }
        if reserved & ~allowedReservedBits != 0 {
            throw WebSocketProtocolError(.protocolError, "reserved bits \(reserved) set without an extension that defines them")
        }
        if opcode.isControl {
            if reserved != 0 { throw WebSocketProtocolError(.protocolError, "reserved bits set on a \(opcode) frame") }
            if !isFinal { throw WebSocketProtocolError(.protocolError, "fragmented \(opcode) frame") }
        }
        let isMasked = second & 0x80 != 0
        switch role {
        case .server where !isMasked: throw WebSocketProtocolError(.protocolError, "unmasked frame from a client")
        case .client where isMasked: throw WebSocketProtocolError(.protocolError, "masked frame from a server")
        default: break
        }
        let shortLength = Int(second & 0x7F)
        if opcode.isControl && shortLength > 125 {
            throw WebSocketProtocolError(.protocolError, "\(opcode) frame longer than 125 bytes")
        }
        var headerLength = 2
        var length = shortLength
        if shortLength == 126 {
            guard available >= 4 else { return nil }
            length = Int(buffer[start + 2]) << 8 | Int(buffer[start + 3])
            headerLength = 4
        } else if shortLength == 127 {
            guard available >= 10 else { return nil }
            var value: UInt64 = 0
            for index in 2..<10 { value = value << 8 | UInt64(buffer[start + index]) }
            if value >> 63 != 0 { throw WebSocketProtocolError(.protocolError, "64-bit payload length with its top bit set") }
            if value > UInt64(maxPayloadLength) {
                throw WebSocketProtocolError(.messageTooBig, "frame of \(value) bytes (limit \(maxPayloadLength))")
            }
            length = Int(value)
            headerLength = 10
        }
        if length > maxPayloadLength {
            throw WebSocketProtocolError(.messageTooBig, "frame of \(length) bytes (limit \(maxPayloadLength))")
        }
        var key: UInt32?
        if isMasked {
            guard available >= headerLength + 4 else { return nil }
            var value: UInt32 = 0
            for index in headerLength..<headerLength + 4 { value = value << 8 | UInt32(buffer[start + index]) }
            key = value
            headerLength += 4
        }
        return Header(isFinal: isFinal, reserved: reserved, opcode: opcode, key: key, headerLength: headerLength, length: length)
    }

    private mutating func parse() throws(WebSocketProtocolError) -> WebSocketFrame? {
        guard let header = try header() else { return nil }
        let (length, key) = (header.length, header.key)
        guard buffer.count - start - header.headerLength >= length else { return nil }
        let payloadStart = start + header.headerLength
        let payload: Bytes
        if length == 0 {
            payload = Bytes()
        } else {
            let storage = ByteStorage.make(capacity: length)
            buffer.withUnsafeBytes { source in
                storage.withBase { base in
                    // Force-unwrap: the buffer holds at least `length` > 0 bytes here.
                    base.copyMemory(from: source.baseAddress! + payloadStart, byteCount: length)
                    if let key { WebSocketMasking.apply(key: key, to: UnsafeMutableRawBufferPointer(start: base, count: length)) }
                }
            }
            payload = Bytes(storage: storage, offset: 0, count: length)
        }
        start = payloadStart + length
        partialDelivered = 0
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: buffer.capacity <= 256 * 1024)
            start = 0
        }
        return WebSocketFrame(opcode: header.opcode, payload: payload, isFinal: header.isFinal, reservedBits: header.reserved)
    }

    /// The opcode and the payload bytes of the frame still arriving that came in since the last
    /// call, unmasked, if `wanted(opcode, reservedBits)` says so; nil when there are none. Lets a text message's
    /// UTF-8 be checked before its frame is complete (the frame is still returned whole by
    /// ``nextFrame()``). Call it after ``nextFrame()`` returned nil.
    public mutating func takePartialPayload(if wanted: (WebSocketOpcode, UInt8) -> Bool) -> (opcode: WebSocketOpcode, bytes: Bytes)? {
        guard failure == nil, let header = try? header(), wanted(header.opcode, header.reserved) else { return nil }
        let arrived = min(header.length, buffer.count - start - header.headerLength)
        guard arrived > partialDelivered else { return nil }
        let from = start + header.headerLength + partialDelivered
        let count = arrived - partialDelivered
        var bytes = Array(buffer[from..<from + count])
        if let key = header.key {
            let offset = partialDelivered
            bytes.withUnsafeMutableBytes { WebSocketMasking.apply(key: key, to: $0, offset: offset) }
        }
        partialDelivered = arrived
        return (header.opcode, Bytes(bytes))
    }
}
