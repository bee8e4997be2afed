import Testing
import UVLoopCodecs

/// Encodes `frame` as a client (masked) or server (unmasked) would.
func wire(_ frame: WebSocketFrame, masked: Bool) -> [UInt8] {
    WebSocketFrameEncoder.encode(frame, maskingKey: masked ? 0x3712_A5C4 : nil).array
}

/// Decodes `bytes` fed in chunks of `chunk` bytes.
func decode(_ bytes: [UInt8], role: WebSocketRole, chunk: Int = .max, allowedReservedBits: UInt8 = 0, limit: Int = 1 << 24)
    throws(WebSocketProtocolError) -> [WebSocketFrame]
{
    var decoder = WebSocketFrameDecoder(role: role, maxPayloadLength: limit)
    decoder.allowedReservedBits = allowedReservedBits
    var frames: [WebSocketFrame] = []
    var position = 0
    while position < bytes.count {
        let end = min(bytes.count, position + min(chunk, bytes.count - position))
        decoder.append(Bytes(bytes[position..<end]))
        position = end
        while let frame = try decoder.nextFrame() { frames.append(frame) }
    }
    return frames
}

/// The protocol error `body` throws, or nil if it throws none.
func protocolError(_ body: () throws -> Void) -> WebSocketProtocolError? {
    do {
        try body()
        return nil
    } catch {
        return error as? WebSocketProtocolError
    }
}

@Suite("WebSocket frame decoder")
struct WebSocketFrameDecoderTests {
    @Test("7-, 16- and 64-bit lengths round-trip in any chunking", arguments: [0, 1, 125, 126, 65535, 65536, 70000])
    func lengths(length: Int) throws {
        let payload = Bytes((0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        let frame = WebSocketFrame(opcode: .binary, payload: payload)
        for chunk in [1, 3, 7, 4096, Int.max] where length < 1000 || chunk >= 4096 {
            #expect(try decode(wire(frame, masked: true), role: .server, chunk: chunk) == [frame])
            #expect(try decode(wire(frame, masked: false), role: .client, chunk: chunk) == [frame])
        }
        let header = WebSocketFrameEncoder.header(opcode: .binary, payloadLength: length)
        #expect(header.count == (length < 126 ? 2 : length <= 65535 ? 4 : 10))
    }

    @Test("a server refuses unmasked frames, a client masked ones")
    func maskingRules() {
        let frame = WebSocketFrame(opcode: .text, payload: "hi")
        #expect(protocolError { _ = try decode(wire(frame, masked: false), role: .server) }?.closeCode == .protocolError)
        #expect(protocolError { _ = try decode(wire(frame, masked: true), role: .client) }?.closeCode == .protocolError)
    }

    @Test("the masking key is applied per byte position, whatever the alignment")
    func masking() {
        let original: [UInt8] = Array(0..<37)
        for offset in 0..<5 {
            var data = original
            data.withUnsafeMutableBytes { WebSocketMasking.apply(key: 0x0102_0304, to: $0, offset: offset) }
            for index in data.indices {
                #expect(data[index] == original[index] ^ UInt8((offset + index) % 4 + 1))
            }
        }
    }

    @Test("reserved bits need an extension, and never on control frames")
    func reservedBits() throws {
        let compressed = WebSocketFrame(opcode: .text, payload: "x", reservedBits: WebSocketFrame.rsv1)
        #expect(protocolError { _ = try decode(wire(compressed, masked: true), role: .server) }?.closeCode == .protocolError)
        #expect(try decode(wire(compressed, masked: true), role: .server, allowedReservedBits: WebSocketFrame.rsv1) == [compressed])
        let rsv2 = WebSocketFrame(opcode: .text, payload: "x", reservedBits: 0b010)
        #expect(protocolError { _ = try decode(wire(rsv2, masked: true), role: .server, allowedReservedBits: WebSocketFrame.rsv1) } != nil)
        let ping = WebSocketFrame(opcode: .ping, payload: "", reservedBits: WebSocketFrame.rsv1)
        #expect(protocolError { _ = try decode(wire(ping, masked: true), role: .server, allowedReservedBits: WebSocketFrame.rsv1) } != nil)
    }

    @Test("control frames are at most 125 bytes and never fragmented")
    func controlFrameRules() throws {
        let big = WebSocketFrame(opcode: .ping, payload: Bytes([UInt8](repeating: 1, count: 126)))
        #expect(protocolError { _ = try decode(wire(big, masked: true), role: .server) }?.closeCode == .protocolError)
        let ok = WebSocketFrame(opcode: .ping, payload: Bytes([UInt8](repeating: 1, count: 125)))
        #expect(try decode(wire(ok, masked: true), role: .server) == [ok])
        let fragmented = WebSocketFrame(opcode: .pong, payload: "", isFinal: false)
        #expect(protocolError { _ = try decode(wire(fragmented, masked: true), role: .server) }?.closeCode == .protocolError)
    }

    @Test("reserved opcodes are refused", arguments: [3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF] as [UInt8])
    func reservedOpcodes(opcode: UInt8) {
        #expect(protocolError { _ = try decode([0x80 | opcode, 0x00], role: .client) }?.closeCode == .protocolError)
    }

    @Test("a 64-bit length with the top bit set is refused; an oversized frame is 1009 before its payload arrives")
    func lengthLimits() {
        let huge: [UInt8] = [0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 1]
        #expect(protocolError { _ = try decode(huge, role: .client) }?.closeCode == .protocolError)
        let big: [UInt8] = [0x82, 127, 0, 0, 0, 0, 0, 1, 0, 1]
        #expect(protocolError { _ = try decode(big, role: .client, limit: 65536) }?.closeCode == .messageTooBig)
    }

    @Test("the decoder stays failed after an error")
    func staysFailed() {
        var decoder = WebSocketFrameDecoder(role: .server)
        decoder.append(Bytes([0x81, 0x00]))
        #expect(protocolError { _ = try decoder.nextFrame() } != nil)
        decoder.append(Bytes(wire(WebSocketFrame(opcode: .text, payload: "ok"), masked: true)))
        #expect(protocolError { _ = try decoder.nextFrame() } != nil)
    }

    @Test("two frames in one chunk and a frame split mid-header both decode")
    func coalescedAndSplit() throws {
        let first = WebSocketFrame(opcode: .text, payload: "one", isFinal: false)
        let second = WebSocketFrame(opcode: .continuation, payload: "two")
        let bytes = wire(first, masked: true) + wire(second, masked: true)
        #expect(try decode(bytes, role: .server) == [first, second])
        #expect(try decode(bytes, role: .server, chunk: 1) == [first, second])
    }
}
