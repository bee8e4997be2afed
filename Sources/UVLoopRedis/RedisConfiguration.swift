/// Where a Redis server is and how to log in: parsed from a `redis://` URL.
///
/// ```swift
/// let configuration = try RedisConfiguration(url: "redis://chat:secret@127.0.0.1:6379/2")
/// // host 127.0.0.1, port 6379, AUTH chat secret, SELECT 2
/// ```
public struct RedisConfiguration: Sendable, Hashable {
    /// The server's host name or address (IPv6 without brackets).
    public var host: String
    /// The server's TCP port (default 6379).
    public var port: Int
    /// The ACL user for `AUTH user password`; `nil` sends `AUTH password` (the default user).
    public var username: String?
    /// The password; `nil` sends no AUTH.
    public var password: String?
    /// The database to SELECT after connecting (default 0, not selected).
    public var database: Int
    /// True for `rediss://`: the connection factory must wrap the stream in TLS.
    public var usesTLS: Bool

    /// Creates a configuration from its parts.
    public init(
        host: String = "127.0.0.1", port: Int = 6379, username: String? = nil, password: String? = nil, database: Int = 0,
        usesTLS: Bool = false
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.usesTLS = usesTLS
    }

    /// Parses `redis://[[user]:password@]host[:port][/database]` (or `rediss://`); user and
    /// password may be percent-encoded, an IPv6 host is written in brackets.
    ///
    /// Throws ``RedisError/invalidURL(_:)`` saying what is wrong.
    public init(url: String) throws(RedisError) {
        let shown = Self.redacted(url)
        let scheme: Substring
        var rest: Substring
        if let range = url.firstRange(of: "://") {
            scheme = url[..<range.lowerBound]
            rest = url[range.upperBound...]
        } else {
            throw .invalidURL("\(shown): no scheme (expected redis://host:port)")
        }
        guard scheme == "redis" || scheme == "rediss" else { throw .invalidURL("\(shown): scheme must be redis or rediss") }
        self.init(usesTLS: scheme == "rediss")
        if let query = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) { rest = rest[..<query] }
        if let slash = rest.firstIndex(of: "/") {
            let path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
            if !path.isEmpty {
                guard let database = Int(path), database >= 0 else { throw .invalidURL("\(shown): database \"\(path)\" is not a number") }
                self.database = database
            }
        }
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                let user = credentials[..<colon]
                username = user.isEmpty ? nil : try Self.percentDecoded(user, in: shown)
                password = try Self.percentDecoded(credentials[credentials.index(after: colon)...], in: shown)
            } else if !credentials.isEmpty {
                // A lone userinfo is the password, as redis-cli -u reads it.
                password = try Self.percentDecoded(credentials, in: shown)
            }
        }
        var portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw .invalidURL("\(shown): unterminated [ in host") }
            host = String(rest[rest.index(after: rest.startIndex)..<close])
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() } else if !after.isEmpty { throw .invalidURL("\(shown): junk after ]") }
        } else if let colon = rest.lastIndex(of: ":") {
            host = String(rest[..<colon])
            portText = rest[rest.index(after: colon)...]
        } else {
            host = String(rest)
        }
        if host.isEmpty { host = "127.0.0.1" }
        if let portText {
            guard let port = Int(portText), (1...65535).contains(port) else {
                throw .invalidURL("\(shown): port \"\(portText)\" is not 1-65535")
            }
            self.port = port
        }
    }

    /// `host:port`, as it appears in messages (`[::1]:6379` for IPv6).
    public var endpoint: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// The URL with any user and password replaced by `***`, for error messages.
    private static func redacted(_ url: String) -> String {
        guard let start = url.firstRange(of: "://")?.upperBound, let at = url[start...].lastIndex(of: "@") else { return url }
        return url[..<start] + "***" + url[at...]
    }

    private static func percentDecoded(_ text: Substring, in url: String) throws(RedisError) -> String {
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let byte = utf8.popFirst() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard utf8.count >= 2, let value = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16) else {
                throw .invalidURL("\(url): bad percent-encoding in user or password")
            }
            bytes.append(value)
            utf8 = utf8.dropFirst(2)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
