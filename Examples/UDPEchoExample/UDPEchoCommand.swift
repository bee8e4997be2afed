import ArgumentParser
import UVLoop

#if canImport(Glibc)
    import Glibc
#endif

/// `swift run UDPEchoExample --port 3002`: a UDP echo server. Shows `UDPSocket`, iterating
/// `datagrams` and replying to each `Datagram.sender`; the socket closes on SIGINT/SIGTERM,
/// which ends the iteration.
@main
struct UDPEchoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "UDPEchoExample",
        abstract: "A UDP echo server: sends each datagram back to its sender."
    )

    @Option(help: "The address to listen on (IPv4 or IPv6).")
    var host = "0.0.0.0"

    @Option(help: "The UDP port to listen on (0 picks a free one).")
    var port = 3002

    func run() throws {
        let host = host
        let port = port
        try Loop.run { loop in
            let socket = try UDPSocket(host: host, port: port, on: loop)
            let shutdown = try loop.onShutdownSignal { _ in socket.close() }
            defer { shutdown.close() }
            print("UDPEchoExample listening on port \(socket.localAddress?.port ?? port)")
            fflush(nil)
            for try await datagram in socket.datagrams {
                do {
                    try await socket.send(datagram.data, to: datagram.sender)
                } catch {
                    // One unreachable sender must not stop the server.
                    printError("UDPEchoExample: \(error)")
                }
            }
        }
    }
}

/// Writes `message` and a newline to standard error.
func printError(_ message: String) {
    var line = message + "\n"
    line.withUTF8 { _ = Glibc.write(2, $0.baseAddress, $0.count) }
}
