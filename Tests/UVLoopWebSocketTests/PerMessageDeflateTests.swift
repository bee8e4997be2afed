import Testing
import UVLoopCodecs

@Suite("permessage-deflate")
struct PerMessageDeflateTests {
    @Test("RFC 7692 §7.2.3.1: \"Hello\" decompresses from its example bytes")
    func rfcExample() throws {
        let inflater = try #require(WebSocketInflater(noContextTakeover: false))
        let frame = WebSocketFrame(
            opcode: .text, payload: Bytes([0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00]), reservedBits: WebSocketFrame.rsv1)
        #expect(try assemble([frame], inflater: inflater) == [.text("Hello")])
        // §7.2.3.2: the same message again, compressed against the first, with context takeover.
        let again = WebSocketFrame(opcode: .text, payload: Bytes([0xF2, 0x00, 0x11, 0x00, 0x00]), reservedBits: WebSocketFrame.rsv1)
        var assembler = WebSocketMessageAssembler(inflater: inflater)
        _ = try assembler.receive(frame)
        #expect(try assembler.receive(again) == .text("Hello"))
    }

    @Test("messages round-trip with and without context takeover, across fragments", arguments: [false, true])
    func roundTrip(noContextTakeover: Bool) throws {
        let deflater = try #require(WebSocketDeflater(windowBits: 15, noContextTakeover: noContextTakeover))
        let inflater = try #require(WebSocketInflater(noContextTakeover: noContextTakeover))
        var assembler = WebSocketMessageAssembler(inflater: inflater)
        var sizes: [Int] = []
        for round in 0..<3 {
            let text = String(repeating: "the quick brown fox \(round % 2) ", count: 200)
            let compressed = deflater.compress(Bytes(text))
            sizes.append(compressed.count)
            #expect(compressed.count < text.utf8.count / 10)
            // Split the compressed payload into three frames.
            let third = compressed.count / 3
            let frames = [
                WebSocketFrame(opcode: .text, payload: compressed.slice(0..<third), isFinal: false, reservedBits: WebSocketFrame.rsv1),
                WebSocketFrame(opcode: .continuation, payload: compressed.slice(third..<2 * third), isFinal: false),
                WebSocketFrame(opcode: .continuation, payload: compressed.slice(2 * third..<compressed.count)),
            ]
            var result: WebSocketMessageAssembler.Event?
            for frame in frames { result = try assembler.receive(frame) }
            #expect(result == .text(text))
        }
        // With context takeover, the third message (equal to the first) costs almost nothing.
        #expect(noContextTakeover ? sizes[2] == sizes[0] : sizes[2] < sizes[0])
    }

    @Test("window bits 8 to 15 all round-trip (8 compresses with zlib's 9, distances stay under 256)", arguments: Array(8...15))
    func windowBits(bits: Int) throws {
        let deflater = try #require(WebSocketDeflater(windowBits: bits, noContextTakeover: false))
        let inflater = try #require(WebSocketInflater(noContextTakeover: false))
        let message = Bytes((0..<20000).map { UInt8(truncatingIfNeeded: ($0 * 7) % 251 + ($0 / 300)) })
        var assembler = WebSocketMessageAssembler(inflater: inflater)
        let frame = WebSocketFrame(opcode: .binary, payload: deflater.compress(message), reservedBits: WebSocketFrame.rsv1)
        #expect(try assembler.receive(frame) == .binary(message))
    }

    @Test("a zip bomb stops at the message limit with 1009")
    func zipBomb() throws {
        let deflater = try #require(WebSocketDeflater(windowBits: 15, noContextTakeover: true))
        let bomb = deflater.compress(Bytes([UInt8](repeating: 0, count: 4 << 20)))
        #expect(bomb.count < 8192)
        let inflater = try #require(WebSocketInflater(noContextTakeover: true))
        let frame = WebSocketFrame(opcode: .binary, payload: bomb, reservedBits: WebSocketFrame.rsv1)
        #expect(protocolError { _ = try assemble([frame], maxMessageSize: 1 << 20, inflater: inflater) }?.closeCode == .messageTooBig)
    }

    @Test("garbage compressed data is 1007; compressed invalid UTF-8 is 1007")
    func invalidData() throws {
        let inflater = try #require(WebSocketInflater(noContextTakeover: true))
        let garbage = WebSocketFrame(opcode: .binary, payload: Bytes([0xFF, 0xFF, 0xFF, 0xFF]), reservedBits: WebSocketFrame.rsv1)
        #expect(protocolError { _ = try assemble([garbage], inflater: inflater) }?.closeCode == .invalidPayload)
        let deflater = try #require(WebSocketDeflater(windowBits: 15, noContextTakeover: true))
        let badText = WebSocketFrame(opcode: .text, payload: deflater.compress(Bytes([0x61, 0xFF])), reservedBits: WebSocketFrame.rsv1)
        let fresh = try #require(WebSocketInflater(noContextTakeover: true))
        #expect(protocolError { _ = try assemble([badText], inflater: fresh) }?.closeCode == .invalidPayload)
    }

    @Test("an empty compressed message decodes as empty")
    func emptyMessage() throws {
        let deflater = try #require(WebSocketDeflater(windowBits: 15, noContextTakeover: false))
        let inflater = try #require(WebSocketInflater(noContextTakeover: false))
        let frame = WebSocketFrame(opcode: .text, payload: deflater.compress(Bytes()), reservedBits: WebSocketFrame.rsv1)
        #expect(try assemble([frame], inflater: inflater) == [.text("")])
    }

    @Test("the server takes the first valid offer and answers its parameters")
    func serverNegotiation() throws {
        var options = PerMessageDeflateOptions()
        let plain = try #require(PerMessageDeflateNegotiation.accept(offers: ["permessage-deflate"], options: options))
        #expect(plain.1 == "permessage-deflate")
        #expect(plain.0 == PerMessageDeflateParameters())
        let offers = [
            "permessage-deflate; server_max_window_bits=7, permessage-deflate; client_max_window_bits; server_no_context_takeover"
        ]
        let chosen = try #require(PerMessageDeflateNegotiation.accept(offers: offers, options: options))
        #expect(chosen.0.serverNoContextTakeover && chosen.0.clientMaxWindowBits == 15)
        #expect(chosen.1 == "permessage-deflate; server_no_context_takeover")
        options.clientMaxWindowBits = 10
        options.clientNoContextTakeover = true
        let limited = try #require(
            PerMessageDeflateNegotiation.accept(
                offers: ["permessage-deflate; client_max_window_bits=12; server_max_window_bits=9"], options: options))
        #expect(limited.1 == "permessage-deflate; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=10")
        for bad in [
            "permessage-deflate; foo", "permessage-deflate; server_max_window_bits", "permessage-deflate; client_max_window_bits=16",
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover", "x-webkit-deflate-frame",
        ] {
            #expect(PerMessageDeflateNegotiation.accept(offers: [bad], options: PerMessageDeflateOptions()) == nil, "\(bad)")
        }
    }

    @Test("the client accepts a valid answer and refuses one it did not offer")
    func clientNegotiation() throws {
        let options = PerMessageDeflateOptions()
        let agreed = try PerMessageDeflateNegotiation.checkAnswer(
            ["permessage-deflate; server_max_window_bits=10; client_no_context_takeover"], options: options)
        #expect(agreed?.serverMaxWindowBits == 10 && agreed?.clientNoContextTakeover == true)
        #expect(try PerMessageDeflateNegotiation.checkAnswer([], options: options) == nil)
        #expect(throws: WebSocketHandshakeError.self) {
            try PerMessageDeflateNegotiation.checkAnswer(["permessage-deflate; bogus"], options: options)
        }
        #expect(throws: WebSocketHandshakeError.self) {
            try PerMessageDeflateNegotiation.checkAnswer(["other-extension"], options: options)
        }
    }
}

@Suite("permessage-deflate, empty messages")
struct PerMessageDeflateEmptyTests {
    @Test("empty messages in a row between others round-trip with context takeover (found by WebSocketFrameFuzz)")
    func emptyMessagesInARow() throws {
        let deflater = try #require(WebSocketDeflater(windowBits: 9, noContextTakeover: false))
        let inflater = try #require(WebSocketInflater(noContextTakeover: false))
        var assembler = WebSocketMessageAssembler(inflater: inflater)
        for message in [Bytes("first"), Bytes(), Bytes(), Bytes([0xFF, 0xFF, 0x56])] {
            let frame = WebSocketFrame(opcode: .binary, payload: deflater.compress(message), reservedBits: WebSocketFrame.rsv1)
            #expect(try assembler.receive(frame) == .binary(message))
        }
    }
}
