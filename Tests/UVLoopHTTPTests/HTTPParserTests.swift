import Testing
import UVLoopCodecs

/// What a parser made of a whole input: messages (head, body, trailers) and the error, if any.
struct ParsedMessages {
    struct Message {
        var head: HTTPRawHead
        var body: [UInt8] = []
        var trailers: [HTTPRawField] = []
        var isComplete = false
    }
    var messages: [Message] = []
    var error: HTTPParseError?
}

/// Feeds `input` to a parser `chunkSize` bytes at a time (all at once if nil), then ends it
/// if `atEnd`.
func parse(
    _ input: [UInt8], kind: HTTPParser.Kind = .request, chunkSize: Int? = nil, limits: HTTPParserLimits = HTTPParserLimits(),
    atEnd: Bool = false
) -> ParsedMessages {
    var parser = HTTPParser(kind: kind, limits: limits)
    var result = ParsedMessages()
    func record(_ event: HTTPParser.Event) {
        switch event {
        case .head(let head): result.messages.append(.init(head: head))
        case .body(let bytes): result.messages[result.messages.count - 1].body += bytes.array
        case .end(let trailers):
            result.messages[result.messages.count - 1].trailers = trailers
            result.messages[result.messages.count - 1].isComplete = true
        }
    }
    let size = max(1, chunkSize ?? input.count)
    var start = 0
    do {
        while start < input.count {
            parser.append(Bytes(input[start..<min(start + size, input.count)]))
            start += size
            while let event = try parser.next() { record(event) }
        }
        if atEnd, let event = try parser.finish() { record(event) }
    } catch {
        result.error = error
    }
    return result
}

func parse(_ text: String, kind: HTTPParser.Kind = .request, chunkSize: Int? = nil, atEnd: Bool = false) -> ParsedMessages {
    parse(Array(text.utf8), kind: kind, chunkSize: chunkSize, atEnd: atEnd)
}

@Suite("HTTPParser")
struct HTTPParserTests {
    @Test("parses a request head: method, target, version, fields, keep-alive")
    func simpleRequest() throws {
        for chunkSize in [nil, 1, 3, 7] {
            let result = parse("GET /a?b=c HTTP/1.1\r\nHost: x\r\nUser-Agent:  t/1 \r\n\r\n", chunkSize: chunkSize)
            #expect(result.error == nil)
            let message = try #require(result.messages.first)
            #expect(message.head.method.string == "GET")
            #expect(message.head.target.string == "/a?b=c")
            #expect(message.head.version == .http11)
            #expect(message.head.fields.map { "\($0.name.string)=\($0.value.string)" } == ["Host=x", "User-Agent=t/1"])
            #expect(message.head.isKeepAlive)
            #expect(message.head.framing == .none)
            #expect(message.isComplete)
        }
    }

    @Test("reads a Content-Length body, however it is chunked")
    func lengthBody() throws {
        for chunkSize in [nil, 1, 5] {
            let result = parse("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloGET", chunkSize: chunkSize)
            let message = try #require(result.messages.first)
            #expect(message.body == Array("hello".utf8))
            #expect(message.isComplete)
            #expect(result.messages.count == 1)
        }
    }

    @Test("reads a chunked body with extensions and trailers")
    func chunkedBody() throws {
        let input =
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;name=value\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-Sum: 1\r\n\r\n"
        for chunkSize in [nil, 1, 2, 9] {
            let result = parse(input, chunkSize: chunkSize)
            #expect(result.error == nil)
            let message = try #require(result.messages.first)
            #expect(message.body == Array("hello0123456789".utf8))
            #expect(message.trailers.map(\.name.string) == ["X-Sum"])
            #expect(message.isComplete)
        }
    }

    @Test("peekRequestLine gives the next request's method and target before the head is parsed, nil when it cannot")
    func peekRequestLine() throws {
        var parser = HTTPParser(kind: .request)
        let none = parser.peekRequestLine()
        #expect(none == nil, "nothing received")
        parser.append(Bytes("GET /a?b=c HT"))
        let peeked = parser.peekRequestLine()
        let early = try #require(peeked)
        #expect(early.method == Bytes("GET") && early.target == Bytes("/a?b=c"))
        #expect(try parser.nextHead() == nil)
        // The head now spans two appends, gathered apart: not peeked.
        #expect(parser.peekRequestLine() == nil)
        parser.append(Bytes("TP/1.1\r\nHost: x\r\n\r\nPOST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nz"))
        #expect(try parser.nextHead()?.target == Bytes("/a?b=c"))
        let peekedNext = parser.peekRequestLine()
        let next = try #require(peekedNext)
        #expect(next.method == Bytes("POST") && next.target == Bytes("/p"))
        #expect(try parser.nextHead()?.method == Bytes("POST"))
        #expect(parser.peekRequestLine() == nil, "inside a body")

        var response = HTTPParser(kind: .response)
        response.append(Bytes("HTTP/1.1 200 OK\r\n\r\n"))
        #expect(response.peekRequestLine() == nil, "a response parser")

        var noSpace = HTTPParser(kind: .request)
        noSpace.append(Bytes("GETTING-A-VERY-LONG-METHOD-NAME-WITHOUT-A-SPACE /"))
        #expect(noSpace.peekRequestLine() == nil, "no space in the first 32 bytes")
    }

    @Test("parses pipelined requests in order, skipping empty lines between them")
    func pipelined() {
        let result = parse("GET /1 HTTP/1.1\r\nHost: x\r\n\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\nGET /3 HTTP/1.0\r\n\r\n")
        #expect(result.messages.map(\.head.target.string) == ["/1", "/2", "/3"])
        #expect(result.messages.map(\.head.isKeepAlive) == [true, true, false])
    }

    @Test("skips empty lines before a request line, even when they arrive byte by byte")
    func leadingEmptyLines() {
        for chunkSize in [nil, 1, 2, 3] {
            let result = parse("\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", chunkSize: chunkSize)
            #expect(result.error == nil)
            #expect(result.messages.count == 1)
        }
    }

    @Test("HTTP/1.0 is kept alive only when asked, HTTP/1.1 unless told to close")
    func keepAlive() {
        #expect(parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").messages.first?.head.isKeepAlive == true)
        #expect(parse("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").messages.first?.head.isKeepAlive == false)
    }

    @Test("notes Expect: 100-continue on HTTP/1.1 requests with a body")
    func expectContinue() {
        let result = parse("PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-Continue\r\n\r\n")
        #expect(result.messages.first?.head.expectsContinue == true)
    }

    @Test(
        "rejects each smuggling and syntax hazard with 400",
        arguments: [
            "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 4\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0x10\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\nFoo: a\r\n b\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\nFoo : a\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\nFoo: a\rb\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\nFoo: a\nBar: b\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\nFo\"o: a\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\nFoo: a\u{01}b\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\n: a\r\n\r\n",
            "G(T / HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET  / HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET /a b HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET / HTTP/1.1 \r\nHost: x\r\n\r\n",
            "GET / http/1.1\r\nHost: x\r\n\r\n",
            "GET / HTTP/1.1\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZ\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1000000000000000\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nBad Trailer: x\r\n\r\n",
            "GET / HTTP/1.1\nHost: x\n\n",
            "\u{16}\u{03}\u{01}\u{00}garbage\r\n\r\n",
        ])
    func rejectsWith400(input: String) {
        for chunkSize in [nil, 1] {
            let result = parse(input, chunkSize: chunkSize)
            #expect(result.error?.status == 400, "\(input.debugDescription) chunked by \(String(describing: chunkSize))")
        }
    }

    @Test("answers unsupported transfer codings 501 and versions 505")
    func unsupported() {
        #expect(parse("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n").error?.status == 501)
        #expect(parse("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n").error?.status == 501)
        #expect(parse("GET / HTTP/2.0\r\nHost: x\r\n\r\n").error?.status == 505)
        #expect(parse("GET / HTTP/0.9\r\n\r\n").error?.status == 505)
    }

    @Test("enforces each limit with its status, whole or byte by byte")
    func limits() {
        let small = HTTPParserLimits(maxHeaderBytes: 100, maxFieldCount: 3, maxTargetLength: 20, maxBodyBytes: 10)
        let cases: [(String, Int)] = [
            ("GET /\(String(repeating: "a", count: 30)) HTTP/1.1\r\nHost: x\r\n\r\n", 414),
            ("GET /\(String(repeating: "a", count: 300))", 414),
            ("GET / HTTP/1.1\r\nHost: x\r\nA: \(String(repeating: "a", count: 200))\r\n\r\n", 431),
            ("GET / HTTP/1.1\r\nHost: x\r\nA: \(String(repeating: "a", count: 200))", 431),
            ("GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", 431),
            ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n", 413),
            ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n6\r\n", 413),
            ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA: \(String(repeating: "a", count: 200))", 431),
            (String(repeating: "x", count: 200), 400),
        ]
        for (input, status) in cases {
            for chunkSize in [nil, 1] {
                let result = parse(Array(input.utf8), chunkSize: chunkSize, limits: small)
                #expect(result.error?.status == status, "\(input.prefix(40).debugDescription) by \(String(describing: chunkSize))")
            }
        }
    }

    @Test("an end of stream inside a message is an error; between messages it is not")
    func endOfStream() {
        #expect(parse("GET / HTTP/1.1\r\nHost: x\r\n\r\n", atEnd: true).error == nil)
        #expect(parse("GET / HTTP/1.1\r\nHo", atEnd: true).error?.kind == .incomplete)
        #expect(parse("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\nab", atEnd: true).error?.kind == .incomplete)
    }

    @Test("parses responses: status, reason, bodies by length, chunks, close, and none for 204 and HEAD")
    func responses() throws {
        let result = parse(
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhiHTTP/1.1 204 No Content\r\n\r\n"
                + "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\nHTTP/1.0 200\r\n\r\nrest",
            kind: .response, chunkSize: 3, atEnd: true)
        #expect(result.error == nil)
        #expect(result.messages.map(\.head.status) == [100, 200, 204, 404, 200])
        #expect(result.messages.map { String(decoding: $0.body, as: UTF8.self) } == ["", "hi", "", "x", "rest"])
        #expect(result.messages[1].head.reason.string == "OK")
        #expect(result.messages[4].head.framing == .untilClose)
        #expect(result.messages[4].isComplete)

        var parser = HTTPParser(kind: .response)
        parser.nextResponseHasNoBody = true
        parser.append("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n")
        guard case .head(let head) = try #require(try parser.next()) else {
            Issue.record("no head")
            return
        }
        #expect(head.framing == .none)
        #expect(parser.isIdle == false)
        guard case .end = try #require(try parser.next()) else {
            Issue.record("no end")
            return
        }
        #expect(parser.isIdle)
    }

    @Test(
        "nextHead: a bodiless request ends with its head, a body still comes through next, and a bad start line wins over a later bare LF"
    )
    func nextHead() throws {
        var parser = HTTPParser(kind: .request)
        parser.append(
            "GET /1 HTTP/1.1\r\nHost: x\r\n\r\nPOST /2 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab"
                + "GET /3 HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try parser.nextHead()?.target.string == "/1")
        let second = try #require(try parser.nextHead())
        #expect(second.framing == .length(2))
        #expect(throws: HTTPParseError.self) { try parser.nextHead() }  // inside the body

        var resumed = HTTPParser(kind: .request)
        resumed.append("POST /2 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nabGET /3 HTTP/1.1\r\nHost: x\r\n\r\n")
        _ = try resumed.nextHead()
        guard case .body(let body) = try #require(try resumed.next()) else {
            Issue.record("no body")
            return
        }
        #expect(body.string == "ab")
        guard case .end = try #require(try resumed.next()) else {
            Issue.record("no end")
            return
        }
        #expect(try resumed.nextHead()?.target.string == "/3")
        #expect(try resumed.nextHead() == nil)
        #expect(resumed.isIdle)

        for chunkSize in [nil, 1, 7] {
            let result = parse("G@T / HTTP/1.1\r\nHost: x\nA: b\r\n\r\n", chunkSize: chunkSize)
            #expect(result.error?.reason == "invalid method")
        }
    }

    @Test("stays failed after an error")
    func staysFailed() {
        var parser = HTTPParser(kind: .request)
        parser.append("BAD\r\n\r\n")
        #expect(throws: HTTPParseError.self) { try parser.next() }
        parser.append("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(throws: HTTPParseError.self) { try parser.next() }
    }

    @Test("body chunks share the received buffer")
    func zeroCopy() throws {
        var parser = HTTPParser(kind: .request)
        let input: Bytes = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nabcd"
        parser.append(input)
        _ = try parser.next()
        guard case .body(let body) = try #require(try parser.next()) else {
            Issue.record("no body")
            return
        }
        #expect(body.storage === input.storage)
    }

    @Test("the head writer writes status lines, fields and decimal numbers")
    func headWriter() {
        var writer = HTTPHeadWriter()
        writer.appendStatusLine(status: 200, reason: "OK")
        writer.appendField("Content-Length", "5")
        writer.append("X: ")
        writer.appendDecimal(1_234_567_890)
        writer.append("\r\n")
        writer.appendEnd()
        #expect(writer.bytes(appending: "hello").string == "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX: 1234567890\r\n\r\nhello")
        #expect(HTTPChunkedEncoding.chunk("0123456789abcdef!").string == "11\r\n0123456789abcdef!\r\n")
    }
}
