// libFuzzer target: HTTPParser must give the same verdict, whatever the chunking.
//
// The input is a configuration byte, then the stream. The low bit picks requests or
// responses; the rest seeds the chunk sizes (1 to 64 bytes). The stream is parsed twice: in
// one piece, and in those chunks. Both runs must yield the same messages (heads, bodies,
// trailers) and the same kind of error, if any (the reason may differ). Each complete message's body must match its framing
// (exactly Content-Length bytes), and an error must never be `incomplete` before the end.
// `peekRequestLine()`, taken before each head, must give the head's method and target (or a
// method that is not a token, which a server refuses to route): the server routes by it.

import UVLoopCodecs

func httpParserFuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = UnsafeBufferPointer(start: data, count: size)
    guard let configuration = input.first else { return 0 }
    let kind: HTTPParser.Kind = configuration & 1 == 0 ? .request : .response
    let stream = Array(input[1...])
    let limits = HTTPParserLimits(maxHeaderBytes: 512, maxFieldCount: 8, maxTargetLength: 128, maxBodyBytes: 4096)

    var seed = UInt32(configuration >> 1) &+ 1
    var sizes: [Int] = []
    var total = 0
    while total < stream.count {
        seed = seed &* 1_103_515_245 &+ 12345
        let next = 1 + Int((seed >> 16) % 64)
        sizes.append(next)
        total += next
    }
    let whole = run(stream, sizes: [stream.count], kind: kind, limits: limits)
    let pieces = run(stream, sizes: sizes, kind: kind, limits: limits)
    check(whole == pieces, "chunking changed the result:\n\(whole)\nvs\n\(pieces)")
    for message in whole.messages where message.complete {
        if case .length(let count) = message.framing {
            check(message.body.count == count, "body of \(message.body.count) bytes for Content-Length \(count)")
        }
        check(message.body.count <= limits.maxBodyBytes, "body over the limit")
    }
    return 0
}

struct Outcome: Equatable, CustomStringConvertible {
    struct Message: Equatable {
        var head: String
        var framing: HTTPBodyFraming
        var body: [UInt8] = []
        var trailers: [String] = []
        var complete = false
    }
    var messages: [Message] = []
    var error: HTTPParseError.Kind?

    var description: String { "\(messages.map { "\($0.head) \($0.body.count)B \($0.complete)" }) \(String(describing: error))" }
}

func run(_ stream: [UInt8], sizes: [Int], kind: HTTPParser.Kind, limits: HTTPParserLimits) -> Outcome {
    var parser = HTTPParser(kind: kind, limits: limits)
    var outcome = Outcome()
    var start = 0
    do {
        for size in sizes where start < stream.count {
            parser.append(Bytes(stream[start..<min(start + size, stream.count)]))
            start += size
            while true {
                let peek = parser.isAwaitingHead ? parser.peekRequestLine() : nil
                guard let event = try parser.next() else { break }
                switch event {
                case .head(let head):
                    if let peek {
                        check(
                            (peek.method == head.method && peek.target == head.target) || !isToken(peek.method),
                            "peeked \(peek.method.array) \(peek.target.array), parsed \(head.method.array) \(head.target.array)")
                    }
                    let fields = head.fields.map { "\($0.name.array):\($0.value.array)" }
                    let text = "\(head.method.array) \(head.target.array) \(head.status) \(head.reason.array) \(head.version) \(fields)"
                    outcome.messages.append(.init(head: text, framing: head.framing))
                    if kind == .response && head.status < 200 { outcome.messages[outcome.messages.count - 1].complete = true }
                case .body(let bytes):
                    check(!outcome.messages.isEmpty, "body before a head")
                    outcome.messages[outcome.messages.count - 1].body += bytes.array
                case .end(let trailers):
                    check(!outcome.messages.isEmpty, "end before a head")
                    outcome.messages[outcome.messages.count - 1].trailers = trailers.map { "\($0.name.array):\($0.value.array)" }
                    outcome.messages[outcome.messages.count - 1].complete = true
                }
            }
        }
    } catch {
        check(error.kind != .incomplete, "incomplete before the end of the stream")
        outcome.error = error.kind
    }
    return outcome
}

/// Whether `bytes` is an RFC 9110 token (what a method must be).
func isToken(_ bytes: Bytes) -> Bool {
    bytes.count > 0
        && bytes.array.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A)
                || "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
}

func check(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() { fatalError("HTTPParserFuzz: \(message())") }
}
