import ArgumentParser
import UVLoop
import UVLoopWebSocket

#if canImport(Glibc)
    import Glibc
#endif

/// `swift run WebSocketEchoExample --port 9001`: a WebSocket server that sends every message back.
@main
struct WebSocketEchoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "WebSocketEchoExample",
        abstract: "A WebSocket echo server (RFC 6455, permessage-deflate): each message comes back as it was sent."
    )

    @Option(help: "The address to listen on (IPv4 or IPv6).")
    var host = "127.0.0.1"

    @Option(help: "The TCP port to listen on (0 picks a free one).")
    var port = 9001

    @Option(help: "The largest message accepted, in bytes; larger closes with 1009.")
    var maxMessageSize = 16 * 1024 * 1024

    @Option(help: "Seconds the closing handshake may take.")
    var closeTimeout = 5.0

    @Option(help: "Seconds between keep-alive pings (0: none).")
    var pingInterval = 0.0

    @Flag(help: "Refuse permessage-deflate.")
    var noCompression = false

    func run() throws {
        var options = WebSocket.Options()
        options.maxMessageSize = maxMessageSize
        options.closeTimeout = .milliseconds(Int(closeTimeout * 1000))
        if pingInterval > 0 { options.pingInterval = .milliseconds(Int(pingInterval * 1000)) }
        if !noCompression { options.compression = PerMessageDeflateOptions() }
        let host = host
        let port = port
        let settings = options
        try Loop.run { loop in
            let server = try TCPListener(host: host, port: port, on: loop)
            print("WebSocketEchoExample listening on \(host):\(server.port)")
            fflush(nil)
            loop.spawn {
                _ = try await loop.waitForSignal([.interrupt, .terminate])
                server.close()
            }
            for try await client in server.connections {
                loop.spawn {
                    let socket: WebSocket
                    do { socket = try await WebSocket.upgrade(client, options: settings) } catch { return }
                    do {
                        while let message = try await socket.receive() {
                            switch message {
                            case .text(let text): try await socket.send(text: text)
                            case .binary(let bytes): try await socket.send(binary: bytes)
                            }
                        }
                    } catch {
                        await socket.close(code: .internalError)
                    }
                }
            }
        }
    }
}
