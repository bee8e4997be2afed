import UVLoop

#if canImport(Glibc)
    import Glibc
#endif

/// The seed's chat server: relays each line, byte for byte, to every other participant.
struct PlainChatServer {
    let host: String
    let port: Int
    let verbose: Bool

    func run(on loop: Loop) async throws {
        let server = try TCPListener(host: host, port: port, on: loop)
        say("ChatServer starting up on port \(server.port)")
        loop.spawn {
            _ = try await loop.waitForSignal([.interrupt, .terminate])
            server.close()
        }
        let participants = Participants()
        while let connection = try? await server.accept() {
            say("Participant joined chat.")
            participants.add(connection)
            loop.spawn {
                defer {
                    participants.remove(connection)
                    connection.close()
                    say("Participant left chat.")
                }
                while let line = try await connection.readLineBytes() {
                    if verbose { say("Chat: \(LineReader.trimmingTerminator(line))") }
                    participants.broadcast(line, from: connection)
                }
            }
        }
        say("ChatServer exiting.")
    }
}

/// Everyone in the room, in join order.
final class Participants {
    private var streams: [TCPStream] = []

    func add(_ stream: TCPStream) { streams.append(stream) }

    func remove(_ stream: TCPStream) { streams.removeAll { $0 === stream } }

    /// Writes `line` to every participant but `sender`; one who is gone is skipped.
    func broadcast(_ line: Bytes, from sender: TCPStream) {
        for stream in streams where stream !== sender {
            try? stream.write(line)
        }
    }
}

/// Prints a console line at once, even when stdout is a pipe.
func say(_ message: String) {
    print(message)
    fflush(nil)
}
