// The eventlet seed's chat server, line for line, on UVLoop: a listener, a participant
// registry and one reader per client. `swift run SeedChatExample [port]`.
// (ChatExample --plain is the production version: line cap, slow-consumer bound, shutdown.)
import UVLoop

let port = CommandLine.arguments.dropFirst().first.flatMap { Int($0) } ?? 3000

final class Participants {
    var streams: [TCPStream] = []
}

try Loop.run { loop in
    print("ChatServer starting up on port \(port)")
    let server = try TCPListener(host: "0.0.0.0", port: port, on: loop)
    let participants = Participants()
    loop.spawn {
        _ = try await loop.waitForSignal([.interrupt, .terminate])
        server.close()
    }
    while let connection = try? await server.accept() {
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
