/// The parts of an `http` or `https` URL a client needs: scheme, host, port and the target
/// (path and query) for the request line.
public struct HTTPURL: Sendable, Equatable, CustomStringConvertible {
    /// `http` or `https`, lowercased.
    public var scheme: String
    /// The host name or address (an IPv6 address without brackets).
    public var host: String
    /// The port (80 or 443 unless given).
    public var port: Int
    /// The path and query, `/` at least.
    public var target: String

    /// Parses `string`; throws ``HTTPClientError`` (`invalidURL`) for anything but an absolute
    /// http(s) URL.
    public init(_ string: String) throws {
        let parts = string.split(separator: "://", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { throw HTTPClientError(.invalidURL, "invalid URL \(string): no scheme") }
        scheme = parts[0].lowercased()
        guard scheme == "http" || scheme == "https" else {
            throw HTTPClientError(.invalidURL, "invalid URL \(string): scheme \(scheme) is not http or https")
        }
        var rest = parts[1]
        if let fragment = rest.firstIndex(of: "#") { rest = rest[..<fragment] }
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        var authority = rest[..<authorityEnd]
        let path = rest[authorityEnd...]
        target = path.isEmpty ? "/" : (path.first == "?" ? "/" + path : String(path))
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        var portText: Substring?
        if authority.first == "[" {
            guard let close = authority.firstIndex(of: "]") else { throw HTTPClientError(.invalidURL, "invalid URL \(string): unclosed [") }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if after.first == ":" {
                portText = after.dropFirst()
            } else if !after.isEmpty {
                throw HTTPClientError(.invalidURL, "invalid URL \(string): junk after ]")
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon])
            portText = authority[authority.index(after: colon)...]
        } else {
            host = String(authority)
        }
        guard !host.isEmpty else { throw HTTPClientError(.invalidURL, "invalid URL \(string): no host") }
        if let portText {
            guard let number = Int(portText), number > 0, number < 65536 else {
                throw HTTPClientError(.invalidURL, "invalid URL \(string): bad port \(portText)")
            }
            port = number
        } else {
            port = scheme == "https" ? 443 : 80
        }
    }

    /// `host:port` as the `Host` field writes it (the port only if not the default).
    public var authority: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return port == (scheme == "https" ? 443 : 80) ? name : "\(name):\(port)"
    }

    /// The key of the connection pool: scheme, host and port.
    var origin: String { "\(scheme)://\(authority)" }

    public var description: String { "\(scheme)://\(authority)\(target)" }

    /// Resolves a `Location` value against this URL.
    func resolving(_ location: String) throws -> HTTPURL {
        if location.contains("://") { return try HTTPURL(location) }
        var copy = self
        if location.hasPrefix("//") { return try HTTPURL("\(scheme):\(location)") }
        if location.hasPrefix("/") {
            copy.target = location
        } else {
            let base = target.split(separator: "?", maxSplits: 1).first.map(String.init) ?? "/"
            let folder = base.lastIndex(of: "/").map { String(base[...$0]) } ?? "/"
            copy.target = folder + location
        }
        return copy
    }
}
