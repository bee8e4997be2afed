import Testing
import UVLoop
import UVLoopTestSupport

@Suite("Stream.broadcast")
struct StreamBroadcastTests {
    @Test("writes one shared line to every stream but the sender, skipping closed ones")
    func fanOut() async throws {
        let received = try await onLoop { loop -> [String?] in
            var clients: [TCPStream] = []
            var servers: [TCPStream] = []
            for _ in 0..<4 {
                let (client, server) = try await connectedPair(on: loop)
                clients.append(client)
                servers.append(server)
            }
            defer { for stream in clients + servers { stream.close() } }
            servers[3].close()
            var overLimit: [TCPStream] = []
            Stream.broadcast(Bytes("hello\n"), to: servers, except: servers[0], queueLimit: 1 << 20) { overLimit.append($0) }
            Stream.broadcast(Bytes("again\n"), to: servers, except: nil, queueLimit: 1 << 20) { overLimit.append($0) }
            #expect(overLimit.isEmpty)
            var lines: [String?] = []
            for client in clients[0..<3] {
                lines.append(try await client.readLine())
            }
            lines.append(try await clients[1].readLine())
            clients[3].close()
            return lines
        }
        #expect(received == ["again", "hello", "hello", "again"])
    }

    @Test("a stream whose backlog passes the limit is handed to the callback, after every stream got the line")
    func overLimit() async throws {
        let outcome = try await onLoop { loop -> (Int, Bool, Int) in
            let (fastClient, fast) = try await connectedPair(on: loop)
            let (slowClient, slow) = try await connectedPair(on: loop)
            defer { for stream in [fastClient, fast, slowClient, slow] { stream.close() } }
            let line = Bytes(String(repeating: "x", count: 60_000) + "\n")
            var flagged: [TCPStream] = []
            var rounds = 0
            var fastLines = 0
            // `slowClient` never reads: its backlog grows past the limit within a few rounds.
            while flagged.isEmpty && rounds < 10_000 {
                Stream.broadcast(line, to: [fast, slow], except: nil, queueLimit: 256 * 1024) { flagged.append($0) }
                rounds += 1
                // Let the loop hand the queues to the kernel, and the fast client read its line.
                if try await fastClient.readLineBytes()?.count == line.count { fastLines += 1 }
            }
            return (flagged.count, flagged.first === slow, fastLines == rounds ? rounds : -1)
        }
        #expect(outcome.0 == 1)
        #expect(outcome.1)
        #expect(outcome.2 > 1)
    }
}
