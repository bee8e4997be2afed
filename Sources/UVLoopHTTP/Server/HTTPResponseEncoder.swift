/// Writes response heads: status line, `Date`, the response's fields, framing and
/// `Connection`, into the server's scratch buffer and out as one new buffer (with the body
/// after it, when it is small, so that both go out as one piece).
enum HTTPResponseEncoder {
    static func head(
        _ response: HTTPServerResponse, server: HTTPServer, contentLength: Int?, isChunked: Bool, version: HTTPVersion,
        keepAlive: Bool, appending body: Bytes = Bytes()
    ) -> Bytes {
        // The scratch writer is moved out and back, so that the appends below are not each
        // an access to the server's stored property.
        var writer = server.takeHeadWriter()
        defer { server.headWriter = writer }
        writer.reset()
        if response.status.code == 200 {
            writer.append("HTTP/1.1 200 OK\r\n")
        } else {
            writer.appendStatusLine(status: response.status.code, reason: response.status.reasonPhrase)
        }
        writer.append(server.date.line)
        if let name = server.configuration.serverName { writer.appendField("Server", name) }
        for field in response.headerFields where field.name != .contentLength && field.name != .transferEncoding {
            writer.appendField(field.name.rawName, field.value)
        }
        if isChunked {
            writer.append("Transfer-Encoding: chunked\r\n")
        } else if let contentLength {
            writer.append("Content-Length: ")
            writer.appendDecimal(contentLength)
            writer.append("\r\n")
        }
        if !keepAlive {
            writer.append("Connection: close\r\n")
        } else if version.minor == 0 {
            writer.append("Connection: keep-alive\r\n")
        }
        writer.appendEnd()
        return writer.bytes(appending: body)
    }
}
