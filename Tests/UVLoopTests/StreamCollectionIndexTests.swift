import Testing
import UVLoop
import UVLoopTestSupport

@Suite("Stream.collectionIndex")
struct StreamCollectionIndexTests {
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
