import ArgumentParser
import UVLoopHTTP
import UVLoopTLS

#if canImport(Glibc)
    import Glibc
#endif

/// `swift run FetchExample URL`: a small curl over HTTPClient.
@main
struct FetchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "FetchExample",
        abstract: "Fetches a URL and prints the response body (a small curl).",
        discussion: "Exits 1 with a one-line reason if the request fails."
    )

    @Argument(help: "The http:// or https:// URL to fetch.")
    var url: String

    @Option(name: [.short, .long], help: "The request method.")
    var method = "GET"

    @Option(name: [.short, .long], help: "A request body (sent with Content-Length).")
    var data: String?

    @Option(name: [.customShort("H"), .long], help: "A request field, 'Name: value' (repeatable).")
    var header: [String] = []

    @Flag(name: [.short, .long], help: "Print the status line and header fields before the body.")
    var include = false

    @Flag(name: [.customShort("L"), .long], help: "Follow redirects.")
    var follow = false

    @Option(help: "Verify https servers against the PEM certificates in this file instead of the system trust store.")
    var caFile: String?

    @Flag(help: "Do not verify the https server's certificate (testing only).")
    var insecure = false

    @Option(help: "Seconds the connect (and TLS handshake) may take.")
    var connectTimeout = 10.0

    @Option(help: "Seconds the whole request may take.")
    var timeout = 60.0

    func run() throws {
        guard let method = HTTPRequest.Method(method.uppercased()) else { fail("invalid method \(method)") }
        var fields = HTTPFields()
        for line in header {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, let name = HTTPField.Name(String(parts[0]).trimmingSpaces) else {
                fail("invalid header \(line.debugDescription): expected 'Name: value'")
            }
            fields.append(HTTPField(name: name, value: String(parts[1]).trimmingSpaces))
        }
        let (url, include, data, headerFields) = (url, include, data, fields)
        let (follow, connectTimeout, timeout) = (follow, connectTimeout, timeout)
        let verification: TLSConfiguration.Verification =
            if insecure { .insecureNoVerification } else if let caFile { .caFile(caFile) } else { .systemTrustStore }
        let failure: String? = try Loop.run { loop in
            var configuration = HTTPClientConfiguration()
            configuration.followsRedirects = follow
            configuration.connectTimeout = .seconds(connectTimeout)
            configuration.requestTimeout = .seconds(timeout)
            // One TLS context for every https connection: certificates are loaded once.
            var tlsContext: TLSContext?
            configuration.connectionFactory = { url, loop in
                guard url.scheme == "https" else { return try await TCPStream.connect(host: url.host, port: url.port, on: loop) }
                let context = try tlsContext ?? TLSContext(.client(verification: verification))
                tlsContext = context
                return try await TLSStream.connect(host: url.host, port: url.port, on: loop, context: context)
            }
            let body: HTTPClientRequestBody = data.map { .bytes(Bytes($0)) } ?? .none
            let client = HTTPClient(on: loop, configuration: configuration)
            defer { client.close() }
            let output = StandardOutput()
            do {
                let response = try await client.execute(method, url, headerFields: headerFields, body: body)
                if include {
                    var head = "HTTP/1.1 \(response.head.status.code) \(response.head.status.reasonPhrase)\r\n"
                    for field in response.head.headerFields { head += "\(field.name.rawName): \(field.value)\r\n" }
                    output.write(Bytes(head + "\r\n"))
                }
                for try await chunk in response.body { output.write(chunk) }
                return nil
            } catch {
                return "\(error)"
            }
        }
        if let failure { fail(failure) }
    }
}

/// Writes to standard output unbuffered (the body may be binary).
struct StandardOutput {
    func write(_ bytes: Bytes) { writeAll(1, bytes) }
}

/// Writes every byte of `bytes` to descriptor `fd`.
func writeAll(_ fd: Int32, _ bytes: Bytes) {
    bytes.withUnsafeBytes { buffer in
        var offset = 0
        while offset < buffer.count {
            // Force-unwrap: the loop runs only for a non-empty buffer, which has a base address.
            let written = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
            if written <= 0 { return }
            offset += written
        }
    }
}

func fail(_ reason: String) -> Never {
    writeAll(2, Bytes("FetchExample: \(reason)\n"))
    exit(1)
}

extension String {
    var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
