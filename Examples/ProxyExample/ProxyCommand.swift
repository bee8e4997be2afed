import ArgumentParser
import UVLoop

#if canImport(Glibc)
    import Glibc
#endif

/// `swift run ProxyExample --listen-port 8080 --target-host 127.0.0.1 --target-port 3001`:
/// a TCP port forwarder. Shows two pumps per connection run in a spawn group, backpressure
/// with `write` + `drain` (a slow side slows the other instead of growing a buffer), and
/// half-close propagation: when one side finishes sending, `closeWrite` passes that on while
/// the other direction keeps flowing.
@main
struct ProxyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ProxyExample",
        abstract: "A TCP port forwarder: relays each connection to a target host and port, both ways."
    )

    @Option(help: "The address to listen on (IPv4 or IPv6).")
    var listenHost = "0.0.0.0"

    @Option(help: "The TCP port to listen on (0 picks a free one).")
    var listenPort = 8080

    @Option(help: "The host to forward connections to.")
    var targetHost: String

    @Option(help: "The port to forward connections to.")
    var targetPort: Int

    func run() throws {
        let listenHost = listenHost
        let listenPort = listenPort
        let targetHost = targetHost
        let targetPort = targetPort
        try Loop.run { loop in
            let server = try TCPListener(host: listenHost, port: listenPort, on: loop)
            let shutdown = try loop.onShutdownSignal { _ in server.close() }
            defer { shutdown.close() }
            print("ProxyExample listening on port \(server.port), forwarding to \(targetHost):\(targetPort)")
            fflush(nil)
            for try await client in server.connections {
                loop.spawn {
                    defer { client.close() }
                    let target: TCPStream
                    do {
                        target = try await TCPStream.connect(host: targetHost, port: targetPort, on: loop)
                    } catch {
                        printError("ProxyExample: \(error)")
                        return
                    }
                    defer { target.close() }
                    do {
                        try await loop.withSpawnGroup { group in
                            group.spawn { try await relay(from: client, to: target) }
                            group.spawn { try await relay(from: target, to: client) }
                        }
                    } catch {
                        // A reset or failed write on either side ends both directions.
                        printError("ProxyExample: \(error)")
                    }
                }
            }
        }
    }
}

/// Copies `source` to `destination` until `source` ends, then half-closes `destination`.
///
/// `drain` waits while `destination` holds more than its high-water mark, so a slow reader
/// stops us reading from `source` and TCP flow control pushes back on its sender.
func relay(from source: TCPStream, to destination: TCPStream) async throws {
    while let bytes = try await source.read() {
        try destination.write(bytes)
        try await destination.drain()
    }
    try await destination.closeWrite()
}

/// Writes `message` and a newline to standard error.
func printError(_ message: String) {
    var line = message + "\n"
    line.withUTF8 { _ = Glibc.write(2, $0.baseAddress, $0.count) }
}
