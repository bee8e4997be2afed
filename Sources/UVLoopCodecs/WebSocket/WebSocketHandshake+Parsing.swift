extension WebSocketHandshake {
    /// Splits a request line, `GET /chat HTTP/1.1`, into method, target and version.
    public static func parseRequestLine(_ line: String) -> (method: String, target: String, version: String)? {
        let parts = line.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty, parts[2].hasPrefix("HTTP/") else { return nil }
        return (String(parts[0]), String(parts[1]), String(parts[2]))
    }

    /// Splits a status line, `HTTP/1.1 101 Switching Protocols`, into version and status code.
    public static func parseStatusLine(_ line: String) -> (version: String, status: Int)? {
        let parts = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/"), parts[1].count == 3, let status = Int(parts[1]) else { return nil }
        return (String(parts[0]), status)
    }

    /// Splits a header line, `Name: value`, into a field; nil if it has no colon or a bad name.
    public static func parseHeaderLine(_ line: String) -> WebSocketHeaderField? {
        guard let colon = line.firstIndex(of: ":") else { return nil }
        let name = String(line[..<colon])
        guard !name.isEmpty, name.allSatisfy({ $0.isASCII && !$0.isWhitespace && $0 != ":" }) else { return nil }
        return WebSocketHeaderField(name: name, value: String(line[line.index(after: colon)...]).trimmingSpaces())
    }
}
