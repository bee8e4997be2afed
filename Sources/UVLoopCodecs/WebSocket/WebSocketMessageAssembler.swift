/// Turns frames into messages: joins fragments (with control frames allowed between them),
/// decompresses permessage-deflate messages, validates text as UTF-8 as it arrives, checks close
/// frames, and bounds a message's size.
///
/// Every breach throws ``WebSocketProtocolError`` with the close code to answer: 1002 for
/// fragments out of order or RSV1 misuse, 1007 for invalid UTF-8 (as soon as the bad byte
/// arrives, even mid-fragment) or bad compressed data, 1009 for a message over
/// ``maxMessageSize``.
///
/// ```swift
/// var assembler = WebSocketMessageAssembler(maxMessageSize: 1 << 20)
/// if let event = try assembler.receive(frame) { ... }
/// ```
public struct WebSocketMessageAssembler {
    /// What a frame completed.
    public enum Event: Sendable, Equatable {
        /// A whole text message.
        case text(String)
        /// A whole binary message.
        case binary(Bytes)
        /// A ping, to be answered with a pong carrying the same payload.
        case ping(Bytes)
        /// A pong.
        case pong(Bytes)
        /// A close frame: its status code (nil if it had none) and reason.
        case close(WebSocketCloseCode?, String)
    }

    /// The largest message accepted, after decompression; larger throws 1009.
    public var maxMessageSize: Int
    /// The decompressor, when permessage-deflate was negotiated.
    public let inflater: WebSocketInflater?

    private var messageOpcode: WebSocketOpcode?
    private var isCompressed = false
    private var parts: [UInt8] = []
    private var single: Bytes?
    private var validator = UTF8Validator()
    /// Bytes of the frame now arriving that ``validatePartial(_:opcode:)`` already checked.
    private var preValidated = 0

    /// An assembler; pass an inflater if permessage-deflate was negotiated.
    public init(maxMessageSize: Int = 16 * 1024 * 1024, inflater: WebSocketInflater? = nil) {
        self.maxMessageSize = maxMessageSize
        self.inflater = inflater
    }

    /// True while a fragmented message is unfinished.
    public var isInMessage: Bool { messageOpcode != nil }

    /// Takes the next frame; returns what it completed, if anything.
    public mutating func receive(_ frame: WebSocketFrame) throws(WebSocketProtocolError) -> Event? {
        switch frame.opcode {
        case .ping: return .ping(frame.payload)
        case .pong: return .pong(frame.payload)
        case .close: return try Self.parseClose(frame.payload)
        case .text, .binary:
            if let messageOpcode {
                throw WebSocketProtocolError(.protocolError, "new \(frame.opcode) message inside an unfinished \(messageOpcode) message")
            }
            if frame.reservedBits & WebSocketFrame.rsv1 != 0 && inflater == nil {
                throw WebSocketProtocolError(.protocolError, "RSV1 set without permessage-deflate")
            }
            messageOpcode = frame.opcode
            isCompressed = frame.reservedBits & WebSocketFrame.rsv1 != 0
            if preValidated == 0 { validator = UTF8Validator() }
            parts.removeAll(keepingCapacity: parts.capacity <= 64 * 1024)
            single = nil
        case .continuation:
            guard messageOpcode != nil else { throw WebSocketProtocolError(.protocolError, "continuation frame outside a message") }
            if frame.reservedBits & WebSocketFrame.rsv1 != 0 {
                throw WebSocketProtocolError(.protocolError, "RSV1 set on a continuation frame")
            }
        }
        try append(frame.payload, isFinal: frame.isFinal)
        guard frame.isFinal, let opcode = messageOpcode else { return nil }
        messageOpcode = nil
        if isCompressed, let inflater {
            let before = parts.count
            try inflater.finishMessage(into: &parts, limit: maxMessageSize)
            try validateText(from: before, opcode: opcode)
        }
        if opcode == .text {
            guard validator.isComplete else { throw WebSocketProtocolError(.invalidPayload, "text message ends inside a UTF-8 sequence") }
            let text = single.map { $0.string } ?? String(decoding: parts, as: UTF8.self)
            release()
            return .text(text)
        }
        let bytes = single ?? Bytes(parts)
        release()
        return .binary(bytes)
    }

    /// True if a frame with this opcode and these reserved bits carries uncompressed text of
    /// the current (or a new) message, whose bytes ``validatePartial(_:opcode:)`` may check
    /// before the frame is complete (see ``WebSocketFrameDecoder/takePartialPayload(if:)``).
    public func wantsEarlyValidation(opcode: WebSocketOpcode, reservedBits: UInt8) -> Bool {
        switch opcode {
        case .text: messageOpcode == nil && reservedBits & WebSocketFrame.rsv1 == 0
        case .continuation: messageOpcode == .text && !isCompressed
        default: false
        }
    }

    /// Checks the next bytes of a text frame that is still arriving, so invalid UTF-8 fails at
    /// once (1007) rather than when the frame ends; ``receive(_:)`` then skips them.
    public mutating func validatePartial(_ bytes: Bytes, opcode: WebSocketOpcode) throws(WebSocketProtocolError) {
        if opcode == .text && preValidated == 0 { validator = UTF8Validator() }
        guard validator.validate(bytes) else { throw WebSocketProtocolError(.invalidPayload, "text message is not valid UTF-8") }
        preValidated += bytes.count
    }

    private mutating func release() {
        single = nil
        parts.removeAll(keepingCapacity: parts.capacity <= 64 * 1024)
    }

    private mutating func append(_ payload: Bytes, isFinal: Bool) throws(WebSocketProtocolError) {
        if isCompressed, let inflater {
            let before = parts.count
            try payload.withUnsafeBytes { (input) throws(WebSocketProtocolError) in
                try inflater.decompress(input, into: &parts, limit: maxMessageSize)
            }
            try validateText(from: before, opcode: messageOpcode)
            return
        }
        let total = parts.count + (single?.count ?? 0) + payload.count
        if total > maxMessageSize {
            throw WebSocketProtocolError(.messageTooBig, "message of at least \(total) bytes (limit \(maxMessageSize))")
        }
        let checked = min(preValidated, payload.count)
        preValidated = 0
        if messageOpcode == .text && !validator.validate(checked == 0 ? payload : payload.slice(checked..<payload.count)) {
            throw WebSocketProtocolError(.invalidPayload, "text message is not valid UTF-8")
        }
        // A one-frame message keeps its payload without a copy.
        if isFinal && parts.isEmpty && single == nil {
            single = payload
            return
        }
        if let first = single {
            first.withUnsafeBytes { parts.append(contentsOf: $0) }
            single = nil
        }
        payload.withUnsafeBytes { parts.append(contentsOf: $0) }
    }

    private mutating func validateText(from start: Int, opcode: WebSocketOpcode?) throws(WebSocketProtocolError) {
        guard opcode == .text, start < parts.count else { return }
        let valid = parts.withUnsafeBytes { validator.validate(UnsafeRawBufferPointer(rebasing: $0[start...])) }
        if !valid { throw WebSocketProtocolError(.invalidPayload, "text message is not valid UTF-8") }
    }

    /// Parses a close frame's payload: empty, or a valid status code and a UTF-8 reason.
    public static func parseClose(_ payload: Bytes) throws(WebSocketProtocolError) -> Event {
        if payload.isEmpty { return .close(nil, "") }
        guard payload.count >= 2 else { throw WebSocketProtocolError(.protocolError, "close frame with a 1-byte payload") }
        let code = WebSocketCloseCode(rawValue: UInt16(payload[0]) << 8 | UInt16(payload[1]))
        guard code.isValidOnWire else { throw WebSocketProtocolError(.protocolError, "close code \(code) is not allowed on the wire") }
        let reason = payload.slice(2..<payload.count)
        guard reason.withUnsafeBytes({ UTF8Validator.isValid($0) }) else {
            throw WebSocketProtocolError(.invalidPayload, "close reason is not valid UTF-8")
        }
        return .close(code, reason.string)
    }

    /// A close frame's payload: the code and the reason, cut to fit 123 bytes on a character boundary.
    public static func closePayload(code: WebSocketCloseCode?, reason: String) -> Bytes {
        guard let code else { return Bytes() }
        var bytes: [UInt8] = [UInt8(code.rawValue >> 8), UInt8(truncatingIfNeeded: code.rawValue)]
        var reasonBytes = Array(reason.utf8)
        if reasonBytes.count > 123 {
            var end = 123
            // Back up over continuation bytes so the cut falls between characters.
            while end > 0 && reasonBytes[end] & 0xC0 == 0x80 { end -= 1 }
            reasonBytes = Array(reasonBytes[..<end])
        }
        bytes += reasonBytes
        return Bytes(bytes)
    }
}
