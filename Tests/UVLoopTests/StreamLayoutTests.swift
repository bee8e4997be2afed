import Glibc
import Testing
import UVLoop
import UVLoopTestSupport

@Suite("Stream layout")
struct StreamLayoutTests {
    @Test("a TCPStream fits one 128-byte malloc chunk (120 usable bytes): every connection holds one")
    func tcpStreamSize() async throws {
        let usable = try await onLoop { loop -> Int in
            let (client, server) = try await connectedPair(on: loop)
            defer { close(client, server) }
            // Unmanaged: the object's own address, read while `server` holds it.
            return malloc_usable_size(Unmanaged.passUnretained(server).toOpaque())
        }
        #expect(usable <= 120)
    }

    @Test("collectionIndex is kept as set, nil by default")
    func collectionIndex() async throws {
        let indices = try await onLoop { loop -> [Int?] in
            let (client, server) = try await connectedPair(on: loop)
            defer { close(client, server) }
            let before = server.collectionIndex
            server.collectionIndex = 18_999
            let set = server.collectionIndex
            server.collectionIndex = nil
            return [before, set, server.collectionIndex, client.collectionIndex]
        }
        #expect(indices == [nil, 18_999, nil, nil])
    }
}
