import ArgumentParser
import UVLoop

#if canImport(Glibc)
    import Glibc
#endif

/// `swift run EchoExample`: writes back every byte each client sends.
@main
struct EchoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "EchoExample",
        abstract: "A TCP echo server: each connection gets back exactly the bytes it sends."
    )

    @Option(help: "The address to listen on (IPv4 or IPv6).")
    var host = "0.0.0.0"

    @Option(help: "The TCP port to listen on (0 picks a free one).")
    var port = 3001

    @Option(help: "Microseconds of CPU work to spend per read, to simulate a costly request.")
    var workUs = 0

    @Option(help: "Event loops (threads) sharing the port through SO_REUSEPORT.")
    var loops = 1

    func run() throws {
        let host = host
        let port = port
        let workUs = workUs
        let loops = loops
        try LoopGroup.run(count: loops) { loop, index in
            let server = try TCPListener(host: host, port: port, reusePort: loops > 1, on: loop)
            let shutdown = try loop.onShutdownSignal { _ in server.close() }
            defer { shutdown.close() }
            if index == 0 {
                print("EchoServer starting up on port \(server.port) with \(loops) loop(s)")
                fflush(nil)
            }
            for try await client in server.connections {
                loop.spawn {
                    defer { client.close() }
                    while let bytes = try await client.read() {
                        if workUs > 0 { spin(microseconds: workUs) }
                        try client.write(bytes)
                        try await client.drain()
                    }
                }
            }
        }
    }
}

/// Burns CPU for about `microseconds`, standing in for real request processing.
func spin(microseconds: Int) {
    let end = ContinuousClock.now + .microseconds(microseconds)
    var x: UInt64 = 0
    while ContinuousClock.now < end { x &+= 1 }
    _ = x
}
