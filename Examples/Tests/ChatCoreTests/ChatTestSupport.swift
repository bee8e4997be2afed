import ChatCore
import Logging
import Synchronization
import Testing
import UVLoop
import UVLoopTestSupport

/// A logger that drops everything, so test output stays readable.
let quietLog = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

/// Console lines, captured.
final class ConsoleRecorder: Sendable {
    let lines = Mutex<[String]>([])
    var console: Console { Console { line in self.lines.withLock { $0.append(line) } } }
    var captured: [String] { lines.withLock { $0 } }
}

/// A test client: a connection to the server with line reads bounded in time.
struct Client {
    let stream: TCPStream
    let loop: Loop

    static func connect(to port: Int, on loop: Loop) async throws -> Client {
        Client(stream: try await TCPStream.connect(host: "127.0.0.1", port: port, on: loop), loop: loop)
    }

    /// The next line without its terminator; fails the test (by throwing) after 5 s.
    func line() async throws -> String {
        let line = try await loop.withTimeout(.seconds(5)) { try await stream.readLine() }
        return try #require(line, "connection ended")
    }

    /// The next line's raw bytes, terminator included.
    func rawLine() async throws -> [UInt8] {
        let line = try await loop.withTimeout(.seconds(5)) { try await stream.readLineBytes() }
        return try #require(line, "connection ended").array
    }

    /// True if the server closes the connection (end of stream or reset) within 5 s, ignoring lines before.
    func isClosedByServer() async throws -> Bool {
        try await loop.withTimeout(.seconds(5)) {
            do {
                while try await stream.readLineBytes() != nil {}
            } catch is UVError {}
            return true
        }
    }

    func send(_ text: String) throws { try stream.write(text) }
    func send(_ bytes: [UInt8]) throws { try stream.write(Bytes(bytes)) }
    func close() { stream.close() }
}

/// Closes each client.
func close(_ clients: Client...) {
    for client in clients { client.close() }
}

/// A chat server on an ephemeral loopback port, run by a task of `loop`.
struct RunningServer {
    let server: ChatServer
    let task: SpawnedTask
    let loop: Loop

    static func start(_ configure: (inout ChatConfiguration) -> Void = { _ in }, console: Console = Console { _ in }, on loop: Loop)
        throws -> RunningServer
    {
        var configuration = ChatConfiguration()
        configuration.host = "127.0.0.1"
        configuration.port = 0
        configure(&configuration)
        let server = try ChatServer(configuration: configuration, log: quietLog, console: console, on: loop)
        return RunningServer(server: server, task: loop.spawn { await server.run() }, loop: loop)
    }

    var port: Int { server.port }

    /// Connects a client and reads its welcome line (in chat mode).
    func join() async throws -> Client {
        let client = try await Client.connect(to: port, on: loop)
        if !server.configuration.isPlain { _ = try await client.line() }
        return client
    }

    /// Shuts the server down gracefully and waits until it has.
    func stop() async {
        server.stop()
        await task.value
    }
}
