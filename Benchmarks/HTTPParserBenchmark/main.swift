// Release benchmark of HTTPParser (swift run -c release HTTPParserBenchmark): requests parsed
// per second and MB/s for a small wrk-style request and a browser-style one, pipelined 16 to
// a buffer as a server receives them; then the same with each head turned into an HTTPTypes
// HTTPRequest, as UVLoopHTTP does (the cost of the user-facing types).
import HTTPTypes
import UVLoopCodecs

let small = "GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n"
let browser =
    "GET /users/42/profile?tab=activity HTTP/1.1\r\nHost: example.com\r\n"
    + "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0\r\n"
    + "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
    + "Accept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate, br\r\n"
    + "Cookie: session=0123456789abcdef0123456789abcdef; theme=dark\r\nConnection: keep-alive\r\n"
    + "Upgrade-Insecure-Requests: 1\r\nSec-Fetch-Dest: document\r\nSec-Fetch-Mode: navigate\r\n\r\n"

func convert(_ head: HTTPRawHead) -> HTTPRequest {
    var fields = HTTPFields()
    fields.reserveCapacity(head.fields.count)
    var authority: String?
    for raw in head.fields {
        if raw.hasName("host") {
            authority = raw.value.string
        } else if let name = HTTPField.Name(raw.name.string) {
            fields.append(raw.value.withUnsafeBytes { HTTPField(name: name, lenientValue: $0) })
        }
    }
    return HTTPRequest(method: .get, scheme: nil, authority: authority, path: head.target.string, headerFields: fields)
}

func run(_ name: String, _ request: String, convertToHTTPTypes: Bool) {
    let batch = Bytes(String(repeating: request, count: 16))
    let rounds = 200_000
    var parsed = 0
    var checksum = 0
    let start = ContinuousClock.now
    for _ in 0..<rounds {
        var parser = HTTPParser(kind: .request)
        parser.append(batch)
        while let event = try? parser.next() {
            if case .head(let head) = event {
                parsed += 1
                checksum &+= convertToHTTPTypes ? convert(head).headerFields.count : head.fields.count
            }
        }
    }
    let elapsed = ContinuousClock.now - start
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    let megabytes = Double(batch.count * rounds) / 1e6
    let kind = convertToHTTPTypes ? "+HTTPRequest" : "raw"
    print(
        "\(name) (\(request.utf8.count) B) \(kind): \(Int(Double(parsed) / seconds / 1000)) k requests/s, "
            + "\(Int(megabytes / seconds)) MB/s (checksum \(checksum))")
}

for convertToHTTPTypes in [false, true] {
    run("small", small, convertToHTTPTypes: convertToHTTPTypes)
    run("browser", browser, convertToHTTPTypes: convertToHTTPTypes)
}
