// libFuzzer target: RESPDecoder's invariants, over arbitrary bytes and chunkings.
//
// The input is a configuration byte, a chunking byte, then the stream. The configuration picks
// small limits (so the limit paths are reached often) or the defaults; the chunking byte seeds
// the chunk sizes. Invariants:
// - any chunking decodes identically: the same replies, and an error for the same input;
// - re-encoding the replies gives back exactly the bytes they were decoded from;
// - decoding a re-encoded reply gives the same reply;
// - no reply exceeds the limits; a failed decoder stays failed.

import UVLoopCodecs

func respDecoderFuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = UnsafeBufferPointer(start: data, count: size)
    guard input.count >= 2 else { return 0 }
    let configuration = input[0]
    let limits =
        configuration & 1 == 0
        ? RESPDecoder.Limits()
        : RESPDecoder.Limits(
            maxBulkLength: Int(configuration >> 1 & 15), maxArrayCount: 1 + Int(configuration >> 5), maxDepth: 1 + Int(input[1] & 3),
            maxLineLength: 8 + Int(configuration >> 3 & 7))
    let stream = Array(input[2...])

    let whole = decode([stream], limits: limits)
    var encoded: [UInt8] = []
    for reply in whole.replies {
        check(respects(reply, limits, depth: 0), "reply over the limits: \(reply)")
        RESPEncoder.append(reply, to: &encoded)
        var again = RESPDecoder()
        again.append(RESPEncoder.encode(reply))
        check((try? again.next()) == reply, "re-encoded reply decodes differently: \(reply)")
    }
    check(encoded == Array(stream[..<whole.consumed]), "re-encoding differs from the input")

    // Chunk sizes from 1 to 32, drawn from a small generator seeded by the chunking byte.
    var state = UInt32(input[1]) &* 2_654_435_761 | 1
    var chunks: [[UInt8]] = []
    var position = 0
    while position < stream.count {
        state ^= state << 13
        state ^= state >> 17
        state ^= state << 5
        let end = min(stream.count, position + 1 + Int(state % 32))
        chunks.append(Array(stream[position..<end]))
        position = end
    }
    let chunked = decode(chunks, limits: limits)
    check(chunked.replies == whole.replies, "chunking changed the replies: \(chunked.replies) vs \(whole.replies)")
    check(chunked.failed == whole.failed, "chunking changed whether the input fails")
    return 0
}

/// Decodes the chunks in order, taking every ready reply after each.
func decode(_ chunks: [[UInt8]], limits: RESPDecoder.Limits) -> (replies: [RESPValue], consumed: Int, failed: Bool) {
    var decoder = RESPDecoder(limits: limits)
    var replies: [RESPValue] = []
    var appended = 0
    var consumed = 0
    for chunk in chunks {
        decoder.append(Bytes(chunk))
        appended += chunk.count
        do {
            while let reply = try decoder.next() {
                replies.append(reply)
                consumed = appended - decoder.bufferedByteCount
            }
        } catch {
            let again = Result { () throws(RESPProtocolError) in try decoder.next() }
            check(again == .failure(error), "a failed decoder must stay failed")
            return (replies, consumed, true)
        }
    }
    return (replies, consumed, false)
}

/// True if `value` keeps within `limits` at nesting `depth`.
func respects(_ value: RESPValue, _ limits: RESPDecoder.Limits, depth: Int) -> Bool {
    switch value {
    case .bulkString(.some(let bytes)): return bytes.count <= limits.maxBulkLength
    case .simpleString(let bytes), .error(let bytes): return bytes.count <= limits.maxLineLength
    case .array(.some(let elements)):
        if elements.isEmpty { return true }
        return depth < limits.maxDepth && elements.count <= limits.maxArrayCount
            && elements.allSatisfy { respects($0, limits, depth: depth + 1) }
    default: return true
    }
}

func check(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() { fatalError("RESPDecoderFuzz: \(message())") }
}
