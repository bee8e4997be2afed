import ArgumentParser
import UVLoop

/// `swift run ChatExample`: the eventlet chat server, on UVLoop.
@main
struct ChatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ChatExample",
        abstract: "A line-based chat server: every line a participant sends goes to every other participant.",
        discussion: "Chat with it using `nc 127.0.0.1 3000`. SIGINT or SIGTERM stops it cleanly."
    )

    @Option(help: "The address to listen on (IPv4 or IPv6).")
    var host = "0.0.0.0"

    @Option(help: "The TCP port to listen on (0 picks a free one).")
    var port = 3000

    @Flag(help: "The seed's protocol: relay lines verbatim, no names or commands.")
    var plain = false

    @Flag(help: "Print every chat line to the console.")
    var verbose = false

    func run() throws {
        let server = PlainChatServer(host: host, port: port, verbose: verbose)
        try Loop.run { loop in try await server.run(on: loop) }
    }
}
