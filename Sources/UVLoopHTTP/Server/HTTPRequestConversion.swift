/// Turns a parsed head into an `HTTPRequest`: `Host` becomes the authority, the target the path.
enum HTTPRequestConversion {
    /// Cannot fail: the parser accepted only token characters in field names (what
    /// `HTTPField.Name` checks), and `method` was converted before.
    static func request(from head: HTTPRawHead, method: HTTPRequest.Method) -> HTTPRequest {
        var fields = HTTPFields()
        var authority: String?
        for raw in head.fields {
            if raw.name.count == 4 && raw.hasName("host") {
                authority = raw.value.string
                continue
            }
            // Reserved at the first field that is kept: a request with only `Host` allocates none.
            if fields.isEmpty { fields.reserveCapacity(head.fields.count) }
            // Never nil (see above); a name it refused would be left out rather than trapping.
            guard let name = HTTPField.Name(raw.name.string) else { continue }
            fields.append(raw.value.withUnsafeBytes { HTTPField(name: name, lenientValue: $0) })
        }
        return HTTPRequest(method: method, scheme: nil, authority: authority, path: head.target.string, headerFields: fields)
    }

    /// The method of `bytes`, nil if it is not a valid token; GET, POST and HEAD compared byte
    /// by byte (no `String`).
    @inline(__always)
    static func method(_ bytes: Bytes) -> HTTPRequest.Method? {
        let known: HTTPRequest.Method? = bytes.withUnsafeBytes { name in
            switch name.count {
            case 3 where name[0] == 0x47 && name[1] == 0x45 && name[2] == 0x54: .get
            case 4 where name[0] == 0x50 && name[1] == 0x4F && name[2] == 0x53 && name[3] == 0x54: .post
            case 4 where name[0] == 0x48 && name[1] == 0x45 && name[2] == 0x41 && name[3] == 0x44: .head
            default: nil
            }
        }
        if let known { return known }
        return HTTPRequest.Method(bytes.string)
    }
}
