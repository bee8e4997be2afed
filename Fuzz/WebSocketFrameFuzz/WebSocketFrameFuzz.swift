// libFuzzer target: the WebSocket frame decoder and message assembler (with the deflate path),
// over arbitrary bytes and chunkings.
//
// The input is a configuration byte, then records: one length byte L, then up to L bytes of
// stream, each record one chunk handed to the decoder. Configuration bit 0 picks the role
// (server: masked frames), bit 1 allows RSV1 and gives the assembler an inflater, bits 2-3 pick
// the size limit. Invariants: no crash or hang; every frame returned obeys RFC 6455 (known
// opcode, control frames final and at most 125 bytes, reserved bits only as allowed, payload
// within the limit); decoding the same stream in one chunk gives the same frames and the same
// error; a frame re-encoded and decoded again is equal; every message is within the limit and a
// text message is valid UTF-8; UTF8Validator agrees with the standard library on each chunk,
// whole or split. Finally each chunk, compressed and inflated, round-trips.

import UVLoopCodecs

func webSocketFrameFuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = UnsafeBufferPointer(start: data, count: size)
    guard let configuration = input.first else { return 0 }
    let role: WebSocketRole = configuration & 1 == 0 ? .server : .client
    let compressed = configuration & 2 != 0
    let limit = [125, 1000, 70000, 1 << 20][Int(configuration >> 2) & 3]

    var chunks: [[UInt8]] = []
    var position = 1
    while position < input.count {
        let length = Int(input[position])
        position += 1
        let end = min(position + length, input.count)
        chunks.append(Array(input[position..<end]))
        position = end
    }

    let chunked = run(chunks, role: role, compressed: compressed, limit: limit)
    let whole = run([chunks.flatMap { $0 }], role: role, compressed: compressed, limit: limit)
    // Text checked while its frame arrives may fail earlier, and so with 1007 where the whole
    // frame fails with another code; whether it fails, and the messages before, do not change.
    check(
        (chunked.error == nil) == (whole.error == nil),
        "chunking changed the outcome: \(String(describing: chunked.error)) vs \(String(describing: whole.error))")
    check(chunked.error != nil || chunked.frames == whole.frames, "chunking changed the frames")
    check(chunked.events == whole.events, "chunking changed the messages")

    for frame in chunked.frames {
        check(frame.payload.count <= limit, "frame over the limit")
        check(frame.reservedBits & ~(compressed ? WebSocketFrame.rsv1 : 0) == 0, "reserved bits not allowed")
        if frame.opcode.isControl {
            check(frame.isFinal && frame.payload.count <= 125 && frame.reservedBits == 0, "control frame rules")
        }
        let encoded = WebSocketFrameEncoder.encode(frame, maskingKey: role == .server ? 0xA1B2_C3D4 : nil)
        var decoder = WebSocketFrameDecoder(role: role, maxPayloadLength: limit)
        decoder.allowedReservedBits = compressed ? WebSocketFrame.rsv1 : 0
        decoder.append(encoded)
        check((try? decoder.nextFrame()) == frame, "re-encoded frame differs")
    }
    for event in chunked.events {
        switch event {
        case .text(let text): check(text.utf8.count <= limit, "text over the limit")
        case .binary(let bytes): check(bytes.count <= limit, "binary over the limit")
        case .close(let code, let reason):
            check(code?.isValidOnWire ?? true, "invalid close code passed")
            check(reason.utf8.count <= 123, "close reason too long")
        case .ping(let bytes), .pong(let bytes): check(bytes.count <= 125, "control payload")
        }
    }

    // The incremental validator agrees with the standard library's, however the text is split.
    for chunk in chunks {
        let expected = String(validating: chunk, as: UTF8.self) != nil
        check(chunk.withUnsafeBytes { UTF8Validator.isValid($0) } == expected, "UTF8Validator disagrees on \(chunk)")
        var split = UTF8Validator()
        let half = chunk.count / 2
        let valid = chunk[..<half].withUnsafeBytes { split.validate($0) } && chunk[half...].withUnsafeBytes { split.validate($0) }
        check((valid && split.isComplete) == expected, "UTF8Validator disagrees on \(chunk) split at \(half)")
    }

    if compressed,
        let deflater = WebSocketDeflater(windowBits: 8 + Int(configuration >> 4) % 8, noContextTakeover: configuration & 0x80 != 0),
        let inflater = WebSocketInflater(noContextTakeover: configuration & 0x80 != 0)
    {
        for chunk in chunks.prefix(4) {
            let message = Bytes(chunk)
            let frame = WebSocketFrame(opcode: .binary, payload: deflater.compress(message), reservedBits: WebSocketFrame.rsv1)
            var assembler = WebSocketMessageAssembler(maxMessageSize: 1 << 20, inflater: inflater)
            let result = Result { () throws(WebSocketProtocolError) in try assembler.receive(frame) }
            check(
                result == .success(.binary(message)),
                "deflate round trip of \(chunk) via \(frame.payload.array): \(result.map { event -> [UInt8] in if case .binary(let bytes) = event { bytes.array } else { [] } })"
            )
        }
    }
    return 0
}

struct FuzzRun {
    var frames: [WebSocketFrame] = []
    var events: [WebSocketMessageAssembler.Event] = []
    var error: WebSocketProtocolError?
}

func run(_ chunks: [[UInt8]], role: WebSocketRole, compressed: Bool, limit: Int) -> FuzzRun {
    var result = FuzzRun()
    var decoder = WebSocketFrameDecoder(role: role, maxPayloadLength: limit)
    decoder.allowedReservedBits = compressed ? WebSocketFrame.rsv1 : 0
    var assembler = WebSocketMessageAssembler(
        maxMessageSize: limit, inflater: compressed ? WebSocketInflater(noContextTakeover: false) : nil)
    for chunk in chunks {
        decoder.append(Bytes(chunk))
        do throws(WebSocketProtocolError) {
            while let frame = try decoder.nextFrame() {
                result.frames.append(frame)
                if let event = try assembler.receive(frame) {
                    if case .text(let text) = event {
                        check(Array(text.utf8).withUnsafeBytes { UTF8Validator.isValid($0) }, "text is not UTF-8")
                    }
                    result.events.append(event)
                }
            }
            // As the session does: text still arriving is checked early.
            if let partial = decoder.takePartialPayload(if: { assembler.wantsEarlyValidation(opcode: $0, reservedBits: $1) }) {
                try assembler.validatePartial(partial.bytes, opcode: partial.opcode)
            }
        } catch {
            result.error = error
            return result
        }
    }
    return result
}

func check(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() { fatalError("WebSocketFrameFuzz: \(message())") }
}
