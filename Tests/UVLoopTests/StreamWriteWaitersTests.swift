import Testing
import UVLoopTestSupport

@testable import UVLoop

/// Several tasks waiting in `drain()` and `flush()` on one stream whose peer reads slowly.
@Suite("Stream drain and flush waiters")
struct StreamWriteWaitersTests {
    /// 8 MiB: more than the kernel's socket buffers take, so the writer's queue stays full
    /// until the peer reads.
    static let size = 8 << 20

    /// Reads `count` bytes from `stream`, returning how many arrived before the end.
    static func readAll(_ stream: TCPStream, count: Int) async throws -> Int {
        var total = 0
        while total < count, let bytes = try await stream.read() { total += bytes.count }
        return total
    }

    @Test("two tasks in drain and one in flush all resume once the peer reads; a cancelled one leaves the others")
    func severalWaiters() async throws {
        let outcome = try await onLoop { loop -> ([String], Int) in
            let (client, server) = try await connectedPair(on: loop)
            defer { close(client, server) }
            try client.write(Bytes([UInt8](repeating: 0x61, count: Self.size)))
            var events: [String] = []
            let waiting = [("drain 1", false), ("drain 2", false), ("flush", true), ("cancelled", false)].map { name, toEmpty in
                loop.spawn {
                    do {
                        if toEmpty { try await client.flush() } else { try await client.drain() }
                        events.append("\(name): \(toEmpty ? client.bufferedWriteCount : 0)")
                    } catch is CancellationError {
                        events.append("\(name): CancellationError")
                    }
                }
            }
            while (loop.writeWaiters[ObjectIdentifier(client)]?.count ?? 0) < 4 { await Task.yield() }
            waiting[3].cancel()
            await waiting[3].value
            let received = try await Self.readAll(server, count: Self.size)
            for task in waiting { await task.value }
            return (events, received)
        }
        #expect(outcome.0.first == "cancelled: CancellationError")
        #expect(Set(outcome.0.dropFirst()) == ["drain 1: 0", "drain 2: 0", "flush: 0"])
        #expect(outcome.1 == Self.size)
    }

    @Test("GracefulShutdown.flush works while a writer is parked in drain")
    func gracefulFlushBesideDrain() async throws {
        let outcome = try await onLoop { loop -> (Int, String) in
            let (client, server) = try await connectedPair(on: loop)
            defer { close(client, server) }
            let shutdown = try GracefulShutdown(on: loop, signals: [.user1])
            defer { shutdown.close() }
            try client.write(Bytes([UInt8](repeating: 0x61, count: Self.size)))
            var drained = "waiting"
            let writer = loop.spawn {
                try await client.drain()
                drained = "drained"
            }
            while loop.writeWaiters[ObjectIdentifier(client)] == nil { await Task.yield() }
            let reader = loop.spawn { _ = try await Self.readAll(server, count: Self.size) }
            let unwritten = await shutdown.flush([client], within: .seconds(30))
            await writer.value
            await reader.value
            return (unwritten.count, drained)
        }
        #expect(outcome.0 == 0)
        #expect(outcome.1 == "drained")
    }
}
