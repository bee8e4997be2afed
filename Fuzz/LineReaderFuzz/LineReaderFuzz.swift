// libFuzzer target: LineReader against a reference model, over arbitrary chunkings.
//
// The input is a configuration byte, then records: one length byte L, then up to L bytes of
// stream. Each record is one chunk handed to `append`; after each chunk every ready line is
// taken with `nextLine`, as `Stream.readLineBytes` does. The reference splits the whole stream
// at each LF: every complete line must come back exactly (terminator included) or, if its
// content is over the limit, as exactly one `LineTooLongError`; the unfinished tail must come
// back from `finish` under the same rules. The reader must never hold more than the limit plus
// one byte (a CR that may start a CRLF) of an unfinished line.

import UVLoopCodecs

func lineReaderFuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = UnsafeBufferPointer(start: data, count: size)
    guard let configuration = input.first else { return 0 }
    // Small limits reach the overlong paths often; 255 keeps the stream's default of 64 KiB.
    let limit = configuration == 255 ? 64 * 1024 : 1 + Int(configuration % 64)

    var chunks: [[UInt8]] = []
    var position = 1
    while position < input.count {
        let length = Int(input[position])
        position += 1
        let end = min(position + length, input.count)
        chunks.append(Array(input[position..<end]))
        position = end
    }

    var reader = LineReader(maxLineLength: limit)
    var got: [LineEvent] = []
    for chunk in chunks {
        reader.append(Bytes(chunk))
        while true {
            do {
                guard let line = try reader.nextLine() else { break }
                got.append(.line(line.array))
                check(LineReader.trimmingTerminator(line).array == content(of: line.array), "trimmingTerminator")
            } catch {
                check(error.limit == limit, "the error names the limit")
                got.append(.tooLong)
            }
        }
        // An unfinished line is either dropped (over the limit) or at most limit + a CR.
        check(reader.bufferedByteCount <= limit + 1, "unfinished line held: \(reader.bufferedByteCount) > \(limit) + 1")
    }
    let tail = reader.finish()
    check(reader.bufferedByteCount == 0, "finish empties the reader")
    check(reader.finish() == nil, "finish twice")

    let expected = model(stream: chunks.flatMap { $0 }, limit: limit)
    check(got == expected.events, "lines differ from the model: got \(got), expected \(expected.events)")
    check(tail?.array == expected.tail, "final line: got \(String(describing: tail?.array)), expected \(String(describing: expected.tail))")
    return 0
}

enum LineEvent: Equatable {
    case line([UInt8])
    case tooLong
}

/// A line's bytes without its LF or CRLF terminator.
func content(of line: [UInt8]) -> [UInt8] {
    var end = line.count
    if end > 0 && line[end - 1] == 0x0A { end -= 1 }
    if end > 0 && line[end - 1] == 0x0D { end -= 1 }
    return Array(line[..<end])
}

/// What a correct reader returns for `stream`, however it is chunked.
func model(stream: [UInt8], limit: Int) -> (events: [LineEvent], tail: [UInt8]?) {
    var events: [LineEvent] = []
    var start = 0
    for (index, byte) in stream.enumerated() where byte == 0x0A {
        let line = Array(stream[start...index])
        events.append(content(of: line).count > limit ? .tooLong : .line(line))
        start = index + 1
    }
    let rest = Array(stream[start...])
    guard !rest.isEmpty else { return (events, nil) }
    // A trailing CR may be half a CRLF, so it does not count while the line is unfinished.
    let unfinishedLength = rest.last == 0x0D ? rest.count - 1 : rest.count
    if unfinishedLength > limit {
        events.append(.tooLong)
        return (events, nil)
    }
    return (events, rest.count > limit ? nil : rest)
}

func check(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() { fatalError("LineReaderFuzz: \(message())") }
}
