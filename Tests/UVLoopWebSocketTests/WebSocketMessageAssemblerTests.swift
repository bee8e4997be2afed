import Testing
import UVLoopCodecs

func assemble(_ frames: [WebSocketFrame], maxMessageSize: Int = 1 << 24, inflater: WebSocketInflater? = nil)
    throws(WebSocketProtocolError) -> [WebSocketMessageAssembler.Event]
{
    var assembler = WebSocketMessageAssembler(maxMessageSize: maxMessageSize, inflater: inflater)
    var events: [WebSocketMessageAssembler.Event] = []
    for frame in frames {
        if let event = try assembler.receive(frame) { events.append(event) }
    }
    return events
}

@Suite("WebSocket message assembly")
struct WebSocketMessageAssemblerTests {
    @Test("fragments join, with control frames between them")
    func fragmentsWithControlFrames() throws {
        let events = try assemble([
            WebSocketFrame(opcode: .text, payload: "Hel", isFinal: false),
            WebSocketFrame(opcode: .ping, payload: "p"),
            WebSocketFrame(opcode: .continuation, payload: "lo", isFinal: false),
            WebSocketFrame(opcode: .pong, payload: ""),
            WebSocketFrame(opcode: .continuation, payload: "!"),
            WebSocketFrame(opcode: .binary, payload: Bytes([1, 2, 3])),
        ])
        #expect(events == [.ping("p"), .pong(""), .text("Hello!"), .binary(Bytes([1, 2, 3]))])
    }

    @Test("fragments out of order are protocol errors")
    func fragmentOrder() {
        #expect(protocolError { _ = try assemble([WebSocketFrame(opcode: .continuation, payload: "x")]) }?.closeCode == .protocolError)
        let interleaved = [WebSocketFrame(opcode: .text, payload: "a", isFinal: false), WebSocketFrame(opcode: .binary, payload: "b")]
        #expect(protocolError { _ = try assemble(interleaved) }?.closeCode == .protocolError)
    }

    @Test("a UTF-8 character split across fragments is valid")
    func utf8AcrossFragments() throws {
        let euro: [UInt8] = [0xE2, 0x82, 0xAC]
        let events = try assemble([
            WebSocketFrame(opcode: .text, payload: Bytes(euro[0..<1]), isFinal: false),
            WebSocketFrame(opcode: .continuation, payload: Bytes(euro[1..<2]), isFinal: false),
            WebSocketFrame(opcode: .continuation, payload: Bytes(euro[2..<3])),
        ])
        #expect(events == [.text("€")])
    }

    @Test("invalid UTF-8 fails at the fragment that holds it, before the message ends")
    func utf8FailsFast() {
        var assembler = WebSocketMessageAssembler()
        #expect(protocolError { _ = try assembler.receive(WebSocketFrame(opcode: .text, payload: "ok", isFinal: false)) } == nil)
        let bad = WebSocketFrame(opcode: .continuation, payload: Bytes([0xCE, 0xBA, 0xED, 0xA0, 0x80]), isFinal: false)
        #expect(protocolError { _ = try assembler.receive(bad) }?.closeCode == .invalidPayload)
    }

    @Test("a text message ending inside a character is 1007")
    func truncatedCharacter() {
        #expect(
            protocolError { _ = try assemble([WebSocketFrame(opcode: .text, payload: Bytes([0xE2, 0x82]))]) }?.closeCode == .invalidPayload)
    }

    @Test("the validator refuses overlong forms, surrogates and code points past U+10FFFF")
    func validatorRules() {
        let invalid: [[UInt8]] = [
            [0xC0, 0x80], [0xE0, 0x80, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xF5], [0x80], [0xFF],
        ]
        for bytes in invalid { #expect(!bytes.withUnsafeBytes { UTF8Validator.isValid($0) }, "\(bytes)") }
        let valid: [[UInt8]] = [[0x7F], [0xC2, 0x80], [0xED, 0x9F, 0xBF], [0xF4, 0x8F, 0xBF, 0xBF], [0xEF, 0xBB, 0xBF]]
        for bytes in valid { #expect(bytes.withUnsafeBytes { UTF8Validator.isValid($0) }, "\(bytes)") }
    }

    @Test("close codes: 1000-1003, 1007-1011, 3000-4999 pass; others are 1002", arguments: Array(0...5000) as [Int])
    func closeCodes(code: Int) throws {
        let payload = Bytes([UInt8(code >> 8), UInt8(code & 0xFF)])
        let valid = (1000...1003).contains(code) || (1007...1011).contains(code) || (3000...4999).contains(code)
        let result = Result { () throws(WebSocketProtocolError) in try WebSocketMessageAssembler.parseClose(payload) }
        switch result {
        case .success(let event): #expect(valid && event == .close(WebSocketCloseCode(rawValue: UInt16(code)), ""))
        case .failure(let error): #expect(!valid && error.closeCode == .protocolError)
        }
    }

    @Test("close payloads: empty, 1 byte, invalid UTF-8 reason")
    func closePayloads() throws {
        #expect(try WebSocketMessageAssembler.parseClose(Bytes()) == .close(nil, ""))
        #expect(protocolError { _ = try WebSocketMessageAssembler.parseClose(Bytes([0x03])) }?.closeCode == .protocolError)
        #expect(protocolError { _ = try WebSocketMessageAssembler.parseClose(Bytes([0x03, 0xE8, 0xFF])) }?.closeCode == .invalidPayload)
        #expect(try WebSocketMessageAssembler.parseClose(Bytes([0x03, 0xE8] + Array("bye".utf8))) == .close(.normalClosure, "bye"))
        let long = WebSocketMessageAssembler.closePayload(code: .goingAway, reason: String(repeating: "é", count: 100))
        #expect(long.count <= 125)
        #expect(long.slice(2..<long.count).withUnsafeBytes { UTF8Validator.isValid($0) })
    }

    @Test("a message over the limit is 1009, whether in one frame or many")
    func maxMessageSize() {
        let frames = (0..<5).map { WebSocketFrame(opcode: $0 == 0 ? .binary : .continuation, payload: "12345", isFinal: $0 == 4) }
        #expect(protocolError { _ = try assemble(frames, maxMessageSize: 20) }?.closeCode == .messageTooBig)
        #expect((try? assemble(frames, maxMessageSize: 25)) == [.binary("1234512345123451234512345")])
    }

    @Test("RSV1 without compression, or on a continuation, is a protocol error")
    func rsv1Rules() throws {
        #expect(protocolError { _ = try assemble([WebSocketFrame(opcode: .text, payload: "x", reservedBits: WebSocketFrame.rsv1)]) } != nil)
        let inflater = try #require(WebSocketInflater(noContextTakeover: false))
        let frames = [
            WebSocketFrame(opcode: .text, payload: "", isFinal: false),
            WebSocketFrame(opcode: .continuation, payload: "", reservedBits: WebSocketFrame.rsv1),
        ]
        #expect(protocolError { _ = try assemble(frames, inflater: inflater) }?.closeCode == .protocolError)
    }
}

@Suite("WebSocket early UTF-8 validation")
struct WebSocketEarlyValidationTests {
    /// Feeds `bytes` one at a time as the session does, returning the events and the error.
    func feed(_ bytes: [UInt8]) -> ([WebSocketMessageAssembler.Event], WebSocketProtocolError?, fedBytes: Int) {
        var decoder = WebSocketFrameDecoder(role: .server)
        var assembler = WebSocketMessageAssembler()
        var events: [WebSocketMessageAssembler.Event] = []
        for (index, byte) in bytes.enumerated() {
            decoder.append(Bytes([byte]))
            do throws(WebSocketProtocolError) {
                while let frame = try decoder.nextFrame() {
                    if let event = try assembler.receive(frame) { events.append(event) }
                }
                if let partial = decoder.takePartialPayload(if: { assembler.wantsEarlyValidation(opcode: $0, reservedBits: $1) }) {
                    try assembler.validatePartial(partial.bytes, opcode: partial.opcode)
                }
            } catch {
                return (events, error, index + 1)
            }
        }
        return (events, nil, bytes.count)
    }

    @Test("invalid UTF-8 fails inside a frame that has not finished arriving")
    func failsInsideFrame() {
        let payload: [UInt8] = Array("valid start ".utf8) + [0xFF] + Array(repeating: 0x61, count: 50)
        let bytes = wire(WebSocketFrame(opcode: .text, payload: Bytes(payload)), masked: true)
        let (_, error, fed) = feed(bytes)
        #expect(error?.closeCode == .invalidPayload)
        // Header (2) + key (4) + "valid start " (12) + the bad byte.
        #expect(fed == 19)
    }

    @Test("text arriving byte by byte, across fragments and around a ping, still assembles")
    func validTextByteByByte() {
        let bytes =
            wire(WebSocketFrame(opcode: .text, payload: Bytes(Array("héllo ".utf8)), isFinal: false), masked: true)
            + wire(WebSocketFrame(opcode: .ping, payload: "p"), masked: true)
            + wire(WebSocketFrame(opcode: .continuation, payload: Bytes(Array("wörld €".utf8))), masked: true)
            + wire(WebSocketFrame(opcode: .binary, payload: Bytes([0xFF, 0xFE])), masked: true)
        let (events, error, _) = feed(bytes)
        #expect(error == nil)
        #expect(events == [.ping("p"), .text("héllo wörld €"), .binary(Bytes([0xFF, 0xFE]))])
    }
}
