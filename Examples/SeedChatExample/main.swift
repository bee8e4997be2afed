// The eventlet seed's chat server, line for line, on UVLoop: a listener, a participant
// registry and one reader per client. `swift run SeedChatExample [port]`.
// (ChatExample --plain is the production version: line cap, slow-consumer bound, shutdown.)
import UVLoop

let port = CommandLine.arguments.dropFirst().first.flatMap { Int($0) } ?? 3000

final class Participants {
    var streams: [TCPStream] = []
}

try Loop.run { loop in
    let server = try TCPListener(host: "0.0.0.0", port: port, on: loop)
    let shutdown = try loop.onShutdownSignal { _ in server.close() }
    defer { shutdown.close() }
    print("ChatServer starting up on port \(port)")
    let participants = Participants()
    for try await connection in server.connections {
        print("Participant joined chat.")
        participants.streams.append(connection)
        loop.spawn {
            while let line = try? await connection.readLineBytes() {
                for participant in participants.streams where participant !== connection {
                    try? participant.write(line)  // one shared buffer; a gone participant is skipped
                }
            }
            participants.streams.removeAll { $0 === connection }
            connection.close()
            print("Participant left chat.")
        }
    }
    print("ChatServer exiting.")
}
