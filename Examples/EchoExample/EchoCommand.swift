import ArgumentParser
import UVLoop
import UVLoopTLS

#if canImport(Glibc)
    import Glibc
#endif

/// `swift run EchoExample`: writes back every byte each client sends.
@main
struct EchoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "EchoExample",
        abstract: "A TCP echo server: each connection gets back exactly the bytes it sends (over TLS with --tls-cert and --tls-key)."
    )

    @Option(help: "The address to listen on (IPv4 or IPv6).")
    var host = "0.0.0.0"

    @Option(help: "The TCP port to listen on (0 picks a free one).")
    var port = 3001

    @Option(help: "Microseconds of CPU work to spend per read, to simulate a costly request.")
    var workUs = 0

    @Option(help: "Event loops (threads) sharing the port through SO_REUSEPORT.")
    var loops = 1

    @Option(help: "Serve TLS with this certificate chain (PEM); needs --tls-key. (default: plain TCP)")
    var tlsCert: String?

    @Option(help: "The private key of --tls-cert (PEM).")
    var tlsKey: String?

    func validate() throws {
        if (tlsCert == nil) != (tlsKey == nil) { throw ValidationError("--tls-cert and --tls-key go together") }
    }

    func run() throws {
        let host = host
        let port = port
        let workUs = workUs
        let loops = loops
        let tlsFiles = tlsCert.flatMap { cert in tlsKey.map { (cert, $0) } }
        try LoopGroup.run(count: loops) { loop, index in
            let server = try TCPListener(host: host, port: port, reusePort: loops > 1, on: loop)
            let shutdown = try loop.onShutdownSignal { _ in server.close() }
            defer { shutdown.close() }
            // One context per loop: OpenSSL objects belong to one loop, like streams.
            let context = try tlsFiles.map { try TLSContext(.server(certificateChain: $0.0, privateKey: $0.1)) }
            if index == 0 {
                print("EchoServer starting up on port \(server.port) with \(loops) loop(s)\(context == nil ? "" : " (TLS)")")
                fflush(nil)
            }
            for try await connection in server.connections {
                loop.spawn {
                    let client: any ByteStream
                    if let context {
                        // A failed handshake has closed the connection already.
                        guard let stream = try? await TLSStream.accept(over: connection, context: context) else { return }
                        client = stream
                    } else {
                        client = connection
                    }
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
