// `HTTPParserFuzz --dump FILE...`: prints what the parser makes of each file (one request
// stream each), one JSON line per file, for scripts/http_h11_diff.py to compare with h11.

import UVLoopCodecs

#if canImport(Glibc)
    import Glibc
#endif

func dumpParses(_ paths: [String]) {
    for path in paths {
        guard let data = readFile(path) else {
            print("{\"file\": \(json(path)), \"unreadable\": true}")
            continue
        }
        var parser = HTTPParser(kind: .request)
        var messages: [String] = []
        var current: [String] = []
        var body: [UInt8] = []
        var verdict = "null"
        parser.append(Bytes(data))
        do {
            while let event = try parser.next() {
                switch event {
                case .head(let head):
                    let fields = head.fields.map { "[\(json($0.name.array)), \(json($0.value.array))]" }.joined(separator: ", ")
                    current = [
                        "\"method\": \(json(head.method.array))", "\"target\": \(json(head.target.array))",
                        "\"version\": \"\(head.version.major).\(head.version.minor)\"", "\"fields\": [\(fields)]",
                    ]
                    body = []
                case .body(let bytes):
                    body += bytes.array
                case .end(let trailers):
                    let trailerText = trailers.map { "[\(json($0.name.array)), \(json($0.value.array))]" }.joined(separator: ", ")
                    current += ["\"body\": \(json(body))", "\"trailers\": [\(trailerText)]"]
                    messages.append("{" + current.joined(separator: ", ") + "}")
                }
            }
        } catch {
            verdict = "\(error.status)"
        }
        print("{\"file\": \(json(path)), \"messages\": [\(messages.joined(separator: ", "))], \"error\": \(verdict)}")
    }
}

/// A JSON string of `bytes` read as Latin-1, so that every byte survives.
func json(_ bytes: [UInt8]) -> String {
    var out = "\""
    for byte in bytes {
        switch byte {
        case 0x22: out += "\\\""
        case 0x5C: out += "\\\\"
        case 0x20..<0x7F: out.unicodeScalars.append(Unicode.Scalar(byte))
        default:
            let hex = String(byte, radix: 16)
            out += "\\u00" + (hex.count == 1 ? "0" + hex : hex)
        }
    }
    return out + "\""
}

func json(_ string: String) -> String { json(Array(string.utf8)) }

func readFile(_ path: String) -> [UInt8]? {
    guard let file = fopen(path, "rb") else { return nil }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = fread(&buffer, 1, buffer.count, file)
        if count <= 0 { break }
        bytes += buffer[0..<count]
    }
    return bytes
}
