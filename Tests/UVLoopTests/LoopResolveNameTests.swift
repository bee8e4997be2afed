import Testing
import UVLoop
import UVLoopTestSupport

@Suite("Reverse lookup")
struct LoopResolveNameTests {
    @Test("127.0.0.1 resolves to localhost")
    func loopback() async throws {
        let name = try await onLoop { loop in
            try await loop.resolveName(of: SocketAddress(host: "127.0.0.1", port: 0))
        }
        #expect(name == "localhost")
    }

    @Test("a lookup in an already cancelled task throws CancellationError")
    func alreadyCancelled() async throws {
        let outcome = try await onLoop { loop -> String in
            var outcome = "resolved"
            let task = loop.spawn {
                withUnsafeCurrentTask { $0?.cancel() }
                do { _ = try await loop.resolveName(of: SocketAddress(host: "127.0.0.1", port: 0)) } catch is CancellationError {
                    outcome = "cancelled"
                }
            }
            await task.value
            return outcome
        }
        #expect(outcome == "cancelled")
    }
}
