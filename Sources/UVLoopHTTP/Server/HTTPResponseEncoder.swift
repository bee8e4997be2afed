/// Writes response heads: status line, `Date`, the response's fields, framing and
/// `Connection`, into the server's scratch buffer and out as one new buffer.
enum HTTPResponseEncoder {
    static func head(
        _ response: HTTPServerResponse, server: HTTPServer, contentLength: Int?, isChunked: Bool, version: HTTPVersion,
        keepAlive: Bool
    ) -> Bytes {
        server.headWriter.reset()
        if response.status.code == 200 {
            server.headWriter.append("HTTP/1.1 200 OK\r\n")
        } else {
            server.headWriter.appendStatusLine(status: response.status.code, reason: response.status.reasonPhrase)
        }
        server.headWriter.append(server.date.line)
        if let name = server.configuration.serverName { server.headWriter.appendField("Server", name) }
        for field in response.headerFields where field.name != .contentLength && field.name != .transferEncoding {
            server.headWriter.appendField(field.name.rawName, field.value)
        }
        if isChunked {
            server.headWriter.append("Transfer-Encoding: chunked\r\n")
        } else if let contentLength {
            server.headWriter.append("Content-Length: ")
            server.headWriter.appendDecimal(contentLength)
            server.headWriter.append("\r\n")
        }
        if !keepAlive {
            server.headWriter.append("Connection: close\r\n")
        } else if version.minor == 0 {
            server.headWriter.append("Connection: keep-alive\r\n")
        }
        server.headWriter.appendEnd()
        return server.headWriter.bytes()
    }

    /// `head` and `body` in one buffer, so that they go out in one piece.
    static func joined(_ head: Bytes, _ body: Bytes) -> Bytes {
        body.count == 0 ? head : head + body
    }
}
