import Testing
import UVLoopCodecs

let goodRequest: [WebSocketHeaderField] = [
    WebSocketHeaderField(name: "Host", value: "server.example.com"),
    WebSocketHeaderField(name: "upgrade", value: "WebSocket"),
    WebSocketHeaderField(name: "Connection", value: "keep-alive, Upgrade"),
    WebSocketHeaderField(name: "Sec-WebSocket-Key", value: "dGhlIHNhbXBsZSBub25jZQ=="),
    WebSocketHeaderField(name: "Sec-WebSocket-Version", value: "13"),
]

func replacing(_ name: String, with value: String?) -> [WebSocketHeaderField] {
    var fields = goodRequest.filter { $0.name.lowercased() != name.lowercased() }
    if let value { fields.append(WebSocketHeaderField(name: name, value: value)) }
    return fields
}

func rejection(method: String = "GET", version: String = "HTTP/1.1", _ headers: [WebSocketHeaderField]) -> WebSocketHandshakeError? {
    do throws(WebSocketHandshakeError) {
        _ = try WebSocketHandshake.accept(method: method, version: version, headers: headers)
        return nil
    } catch {
        return error
    }
}

@Suite("WebSocket handshake")
struct WebSocketHandshakeTests {
    @Test("RFC 6455 §1.3's key gives its accept value")
    func acceptKey() throws {
        #expect(WebSocketHandshake.acceptKey(for: "dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        let accepted = try WebSocketHandshake.accept(method: "GET", version: "HTTP/1.1", headers: goodRequest)
        #expect(accepted.responseHead.hasPrefix("HTTP/1.1 101 Switching Protocols\r\n"))
        #expect(accepted.responseHead.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"))
        #expect(accepted.responseHead.hasSuffix("\r\n\r\n"))
    }

    @Test("SHA-1 and base64 match their standard test vectors")
    func vectors() {
        let hex = { (bytes: [UInt8]) in
            bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
        }
        #expect(hex(SHA1.hash(Array("abc".utf8))) == "a9993e364706816aba3e25717850c26c9cd0d89d")
        #expect(hex(SHA1.hash([])) == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        let long = Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
        #expect(hex(SHA1.hash(long)) == "84983e441c3bd26ebaae4aa1f95129e5e54670f1")
        for (plain, encoded) in [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foobar", "Zm9vYmFy")] {
            #expect(Base64.encode(Array(plain.utf8)) == encoded)
            #expect(Base64.decode(encoded) == Array(plain.utf8))
        }
        #expect(Base64.decode("Zm9") == nil)
        #expect(Base64.decode("Z=9v") == nil)
        #expect(Base64.decode(WebSocketHandshake.makeKey())?.count == 16)
    }

    @Test("a wrong version is 426 with Sec-WebSocket-Version: 13")
    func wrongVersion() {
        for version in ["8", "", "13, 8"] {
            let error = rejection(replacing("Sec-WebSocket-Version", with: version.isEmpty ? nil : version))
            #expect(error?.status == 426)
            #expect(error?.headers == [WebSocketHeaderField(name: "Sec-WebSocket-Version", value: "13")])
            #expect(error?.responseHead.contains("Sec-WebSocket-Version: 13\r\n") == true)
        }
    }

    @Test("a bad request is 400 (405 for another method)")
    func badRequests() {
        #expect(rejection(method: "POST", goodRequest)?.status == 405)
        #expect(rejection(version: "HTTP/1.0", goodRequest)?.status == 400)
        #expect(rejection(replacing("Upgrade", with: nil))?.status == 400)
        #expect(rejection(replacing("Upgrade", with: "h2c"))?.status == 400)
        #expect(rejection(replacing("Connection", with: "keep-alive"))?.status == 400)
        #expect(rejection(replacing("Sec-WebSocket-Key", with: nil))?.status == 400)
        #expect(rejection(replacing("Sec-WebSocket-Key", with: "c2hvcnQ="))?.status == 400)
        #expect(rejection(replacing("Sec-WebSocket-Key", with: "not base64 at all!!!!!!!"))?.status == 400)
    }

    @Test("subprotocols: the client's first one the server supports")
    func subprotocols() throws {
        let headers = goodRequest + [WebSocketHeaderField(name: "Sec-WebSocket-Protocol", value: "chat.v2, chat.v1")]
        let accepted = try WebSocketHandshake.accept(
            method: "GET", version: "HTTP/1.1", headers: headers, subprotocols: ["chat.v1", "chat.v2"])
        #expect(accepted.subprotocol == "chat.v2")
        let none = try WebSocketHandshake.accept(method: "GET", version: "HTTP/1.1", headers: headers, subprotocols: ["other"])
        #expect(none.subprotocol == nil && !none.responseHead.contains("Sec-WebSocket-Protocol"))
    }

    @Test("the client checks the server's 101 answer")
    func clientCheck() throws {
        let key = WebSocketHandshake.makeKey()
        let request = WebSocketHandshake.requestHead(
            host: "127.0.0.1:9", path: "/chat", key: key, subprotocols: ["a"], compression: PerMessageDeflateOptions())
        #expect(request.hasPrefix("GET /chat HTTP/1.1\r\nHost: 127.0.0.1:9\r\n"))
        let fields = request.split(separator: "\r\n").dropFirst().compactMap { WebSocketHandshake.parseHeaderLine(String($0)) }
        let accepted = try WebSocketHandshake.accept(
            method: "GET", version: "HTTP/1.1", headers: fields, subprotocols: ["a"], compression: PerMessageDeflateOptions())
        let agreed = try WebSocketHandshake.checkResponse(
            status: 101, headers: accepted.headers, key: key, subprotocols: ["a"], compression: PerMessageDeflateOptions())
        #expect(agreed.subprotocol == "a" && agreed.compression == PerMessageDeflateParameters())
        #expect(throws: WebSocketHandshakeError.self) {
            try WebSocketHandshake.checkResponse(status: 200, headers: accepted.headers, key: key)
        }
        #expect(throws: WebSocketHandshakeError.self) {
            try WebSocketHandshake.checkResponse(
                status: 101, headers: accepted.headers, key: WebSocketHandshake.makeKey(), subprotocols: ["a"],
                compression: PerMessageDeflateOptions())
        }
        #expect(throws: WebSocketHandshakeError.self) {
            try WebSocketHandshake.checkResponse(status: 101, headers: accepted.headers, key: key, subprotocols: ["a"])
        }
    }

    @Test("request, status and header lines parse")
    func lines() {
        #expect(WebSocketHandshake.parseRequestLine("GET /x HTTP/1.1")?.target == "/x")
        #expect(WebSocketHandshake.parseRequestLine("GET  HTTP/1.1") == nil)
        #expect(WebSocketHandshake.parseStatusLine("HTTP/1.1 101 Switching Protocols")?.status == 101)
        #expect(WebSocketHandshake.parseStatusLine("HTTP/1.1 10x") == nil)
        #expect(WebSocketHandshake.parseHeaderLine("Name:  value ") == WebSocketHeaderField(name: "Name", value: "value"))
        #expect(WebSocketHandshake.parseHeaderLine("no colon") == nil)
        #expect(WebSocketHandshake.parseHeaderLine(" bad: x") == nil)
    }
}
