import Testing
import UVLoop
import UVLoopTLS
import UVLoopTestSupport

/// A value set by one loop task and read by another, once they have synchronised.
final class Box<Value> {
    var value: Value?
    init() {}
}

/// A listener whose connections are handed, one at a time, to `serve` after the TLS handshake;
/// each connection runs in its own task, and its outcome (the handshake's error, or the version
/// once `serve` returned) is recorded in `outcomes`.
final class TLSTestServer {
    let listener: TCPListener
    let context: TLSContext
    var outcomes: [Result<String, any Error>] = []
    let finished: Event
    private var task: SpawnedTask?

    /// Starts accepting on an ephemeral loopback port.
    init(on loop: Loop, context: TLSContext, serve: @escaping (TLSStream) async throws -> Void = { _ in }) throws {
        listener = try TCPListener(host: "127.0.0.1", port: 0, on: loop)
        self.context = context
        finished = Event(on: loop)
        let listener = listener
        task = loop.spawn { [self] in
            while let connection = try? await listener.accept() {
                loop.spawn { [self] in
                    do {
                        let stream = try await TLSStream.accept(over: connection, context: context)
                        defer { stream.close() }
                        try? await serve(stream)
                        outcomes.append(.success(stream.protocolVersion))
                    } catch {
                        outcomes.append(.failure(error))
                    }
                    finished.set()
                }
            }
        }
    }

    var port: Int { listener.port }

    /// Waits for the next connection to be done with, and returns its outcome.
    func nextOutcome() async throws -> Result<String, any Error> {
        while outcomes.isEmpty {
            finished.clear()
            try await finished.wait()
        }
        return outcomes.removeFirst()
    }

    func close() {
        listener.close()
        task?.cancel()
    }
}

/// Echoes lines back, prefixed with "echo: ", until the end of the stream.
func echoLines(_ stream: TLSStream) async throws {
    while let line = try await stream.readLine() {
        try stream.write("echo: \(line)\n")
    }
    try await stream.flush()
}

func serverConfiguration(_ certificates: TestCertificates = .shared) -> TLSConfiguration {
    .server(certificateChain: certificates.localhostChain, privateKey: certificates.localhostKey)
}

func clientConfiguration(_ certificates: TestCertificates = .shared) -> TLSConfiguration {
    .client(verification: .caFile(certificates.caFile))
}

/// The error `body` throws, or a test failure if it throws none.
func thrownError(sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void) async -> (any Error)? {
    do {
        try await body()
        Issue.record("expected an error", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}

/// Runs a command to its end, feeding `input` and returning its standard output.
func run(_ executable: String, _ arguments: [String], input: String = "", on loop: Loop) async throws -> (String, Subprocess.Termination) {
    let child = try Subprocess.spawn(
        executable, arguments: arguments, standardInput: .pipe, standardOutput: .pipe, standardError: .discard, on: loop)
    // Force-unwraps: the slots were asked for as pipes.
    let stdin = child.standardInput!
    let stdout = child.standardOutput!
    try stdin.write(input)
    try await stdin.closeWrite()
    stdin.close()
    var output = ""
    while let bytes = try await stdout.read() { output += bytes.string }
    stdout.close()
    return (output, try await child.wait())
}

/// `onLoop`, with the whole body bounded by `timeout`, so a test that hangs fails instead.
func onTLSLoop<T: Sendable>(
    timeout: Duration = .seconds(30), sourceLocation: SourceLocation = #_sourceLocation,
    _ body: @escaping @Sendable (Loop) async throws -> T
) async throws -> T {
    try await onLoop(sourceLocation: sourceLocation) { loop in
        try await loop.withTimeout(timeout) { try await body(loop) }
    }
}
