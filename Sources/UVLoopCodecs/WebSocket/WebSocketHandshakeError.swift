/// A WebSocket opening handshake that cannot go on: the HTTP status a server answers with
/// (400, 405, 426), or, on a client, why the server's answer was refused (status 0).
public struct WebSocketHandshakeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The status to answer with (0 for a client-side error).
    public var status: Int
    /// Extra response header fields (426 adds `Sec-WebSocket-Version: 13`).
    public var headers: [WebSocketHeaderField]
    /// What was wrong.
    public var reason: String

    /// An error with `status` (0 on a client), `reason` and extra response `headers`.
    public init(status: Int = 0, _ reason: String, headers: [WebSocketHeaderField] = []) {
        self.status = status
        self.reason = reason
        self.headers = headers
    }

    public var description: String {
        status == 0 ? "WebSocket handshake failed: \(reason)" : "WebSocket handshake refused with \(status): \(reason)"
    }

    /// The HTTP/1.1 response a server sends for this error, with the reason as a text body.
    public var responseHead: String {
        let phrase =
            switch status {
            case 400: "Bad Request"
            case 405: "Method Not Allowed"
            case 426: "Upgrade Required"
            default: "Error"
            }
        let body = reason + "\n"
        var head = "HTTP/1.1 \(status) \(phrase)\r\n"
        for field in headers { head += "\(field.name): \(field.value)\r\n" }
        head += "Content-Type: text/plain; charset=utf-8\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n"
        return head + body
    }
}

/// One HTTP header field of a handshake, name as received (named apart from HTTPTypes' `HTTPField`).
public struct WebSocketHeaderField: Sendable, Equatable {
    /// The field name; compared case-insensitively.
    public var name: String
    /// The field value, without surrounding spaces.
    public var value: String

    /// A field.
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}
