import Testing
import UVLoop
import UVLoopTestSupport

@Suite("Coordination")
struct CoordinationTests {
    @Test("a channel delivers in order, makes senders wait when full, and ends when closed")
    func channelOrderAndBackpressure() async throws {
        let result = try await onLoop { loop -> ([Int], [String]) in
            let channel = Channel<Int>(capacity: 2, on: loop)
            var log: [String] = []
            let producer = loop.spawn {
                for i in 1...5 {
                    try await channel.send(i)
                    log.append("sent \(i)")
                }
                channel.close()
            }
            // Let the producer run until it blocks on the full channel.
            try await loop.sleep(for: .milliseconds(5))
            #expect(log == ["sent 1", "sent 2"])
            #expect(channel.count == 2)
            var received: [Int] = []
            for try await value in channel { received.append(value) }
            await producer.value
            return (received, log)
        }
        #expect(result.0 == [1, 2, 3, 4, 5])
        #expect(result.1.count == 5)
    }

    @Test("a zero-capacity channel hands each element straight to a receiver")
    func rendezvousChannel() async throws {
        let received = try await onLoop { loop -> [String] in
            let channel = Channel<String>(capacity: 0, on: loop)
            loop.spawn {
                try await channel.send("a")
                try await channel.send("b")
                channel.close()
            }
            var got: [String] = []
            while let value = try await channel.receive() { got.append(value) }
            return got
        }
        #expect(received == ["a", "b"])
    }

    @Test("send on a closed channel throws; a cancelled receive throws CancellationError")
    func channelClosedAndCancelled() async throws {
        let outcome = try await onLoop { loop -> [String] in
            let channel = Channel<Int>(capacity: 1, on: loop)
            var outcome: [String] = []
            let receiver = loop.spawn {
                do { _ = try await channel.receive() } catch is CancellationError { outcome.append("cancelled") }
            }
            try await loop.sleep(for: .milliseconds(2))
            receiver.cancel()
            await receiver.value
            channel.close()
            do { try await channel.send(1) } catch is ChannelClosedError { outcome.append("closed") }
            #expect(!channel.trySend(2))
            return outcome
        }
        #expect(outcome == ["cancelled", "closed"])
    }

    @Test("an event wakes every waiter once set")
    func eventWakesAll() async throws {
        let woken = try await onLoop { loop -> Int in
            let event = Event(on: loop)
            var woken = 0
            try await loop.withSpawnGroup { group in
                for _ in 0..<3 {
                    group.spawn {
                        try await event.wait()
                        woken += 1
                    }
                }
                try await loop.sleep(for: .milliseconds(2))
                #expect(woken == 0)
                event.set()
            }
            try await event.wait()  // already set: returns at once
            return woken
        }
        #expect(woken == 3)
    }

    @Test("a semaphore admits at most its value at once")
    func semaphoreBoundsConcurrency() async throws {
        let peak = try await onLoop { loop -> Int in
            let semaphore = Semaphore(value: 2, on: loop)
            var inside = 0
            var peak = 0
            try await loop.withSpawnGroup { group in
                for _ in 0..<6 {
                    group.spawn {
                        try await semaphore.withPermit {
                            inside += 1
                            peak = max(peak, inside)
                            try await loop.sleep(for: .milliseconds(2))
                            inside -= 1
                        }
                    }
                }
            }
            #expect(semaphore.available == 2)
            return peak
        }
        #expect(peak == 2)
    }

    @Test("a task pool runs at most its size at once and waitAll waits for all")
    func taskPoolBounds() async throws {
        let result = try await onLoop { loop -> (Int, Int) in
            let pool = TaskPool(size: 3, on: loop)
            var running = 0
            var peak = 0
            var done = 0
            for _ in 0..<10 {
                try await pool.spawn {
                    running += 1
                    peak = max(peak, running)
                    try await loop.sleep(for: .milliseconds(1))
                    running -= 1
                    done += 1
                }
            }
            try await pool.waitAll()
            return (peak, done)
        }
        #expect(result.0 == 3)
        #expect(result.1 == 10)
    }
}
