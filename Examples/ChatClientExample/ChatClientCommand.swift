import ArgumentParser
import UVLoop
import UVLoopTLS

#if canImport(Glibc)
    import Glibc
#endif

/// `swift run ChatClientExample --host H --port P [--tls]`: a chat client, like `nc` with TLS.
///
/// Sends each line of standard input and prints each line received, both at once. Exits 0 when
/// standard input ends (after sending everything, half-closing, and printing what the server
/// still sends within `--linger` seconds) or when the server closes; exits 1 with a one-line
/// reason when it cannot connect, the TLS handshake fails or the connection breaks.
@main
struct ChatClientCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ChatClientExample",
        abstract: "A chat client over TCP or TLS: standard input to the server, the server to standard output."
    )

    @Option(help: "The server's host name or address.")
    var host = "127.0.0.1"

    @Option(help: "The server's port.")
    var port = 3000

    @Flag(help: "Speak TLS (verifying the server against the system trust store, or --ca-file).")
    var tls = false

    @Option(help: "A PEM file of CA certificates to verify the server against, instead of the system's.")
    var caFile: String?

    @Option(help: "The name sent in SNI and checked against the certificate (default: --host).")
    var serverName: String?

    @Flag(help: "Do not verify the server's certificate at all (tests only).")
    var insecure = false

    @Option(help: "Seconds to keep printing the server's lines after standard input ended.")
    var linger: Double = 1

    @Option(help: "Seconds allowed for connecting and the TLS handshake.")
    var connectTimeout: Double = 10

    func run() throws {
        let options = ClientOptions(
            host: host, port: port, tls: tls, caFile: caFile, serverName: serverName, insecure: insecure,
            linger: .milliseconds(Int(linger * 1000)), connectTimeout: .milliseconds(Int(connectTimeout * 1000)))
        let failure = try Loop.run { loop in try await ChatClient(options: options, loop: loop).run() }
        if let failure {
            let line = Array("ChatClientExample: \(failure)\n".utf8)
            _ = line.withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
            throw ExitCode(1)
        }
    }
}

/// The command line, as the loop's task sees it.
struct ClientOptions: Sendable {
    var host: String
    var port: Int
    var tls: Bool
    var caFile: String?
    var serverName: String?
    var insecure: Bool
    var linger: Duration
    var connectTimeout: Duration
}

/// The client's run: connect, then copy standard input up and the server's lines down.
final class ChatClient {
    let options: ClientOptions
    let loop: Loop
    /// Why the client stops with an error; `nil` for a normal end.
    private var failure: String?

    init(options: ClientOptions, loop: Loop) {
        self.options = options
        self.loop = loop
    }

    /// Returns the reason for a failure, or `nil` when the session ended normally.
    func run() async throws -> String? {
        let connection: any ByteStream
        do {
            connection = try await loop.withTimeout(options.connectTimeout) { try await connect() }
        } catch let error as TimeoutError {
            return "connecting to \(options.host):\(options.port) \(error)"
        } catch {
            return "\(error)"
        }
        defer { connection.close() }
        // Standard input and output are streams whatever they are: a terminal, a pipe, a socket,
        // a file or /dev/null.
        let input = try Stream.standardInput(on: loop)
        let output = try Stream.standardOutput(on: loop)
        let finished = Event(on: loop)

        let receiver = loop.spawn { [self] in
            defer { finished.set() }
            do {
                while let line = try await connection.readLineBytes() {
                    try output.write(line)
                    try await output.drain()
                }
            } catch is CancellationError {
            } catch {
                failure = failure ?? "connection to \(options.host):\(options.port) failed: \(error)"
            }
        }
        let sender = loop.spawn { [self] in
            do {
                while let chunk = try await input.read() {
                    try connection.write(chunk)
                    try await connection.drain()
                }
                try await connection.flush()
                try await connection.closeWrite()
                // Standard input ended: print what the server still sends, for a while.
                _ = try? await loop.withTimeout(options.linger) { try await finished.wait() }
            } catch is CancellationError {
                return
            } catch {
                failure = failure ?? "sending to \(options.host):\(options.port) failed: \(error)"
            }
            finished.set()
        }
        try await finished.wait()
        sender.cancel()
        receiver.cancel()
        await sender.value
        await receiver.value
        input.close()
        try? await output.flush()
        output.close()
        return failure
    }

    private func connect() async throws -> any ByteStream {
        guard options.tls else { return try await TCPStream.connect(host: options.host, port: options.port, on: loop) }
        let verification: TLSConfiguration.Verification =
            if options.insecure { .insecureNoVerification } else if let caFile = options.caFile { .caFile(caFile) } else {
                .systemTrustStore
            }
        return try await TLSStream.connect(
            host: options.host, port: options.port, on: loop, configuration: .client(verification: verification),
            serverName: options.serverName)
    }
}
