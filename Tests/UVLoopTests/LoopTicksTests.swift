import Testing
import UVLoop
import UVLoopTestSupport

@Suite("Ticks")
struct LoopTicksTests {
    @Test("ticks come every interval, numbered, and break closes the timer")
    func ticks() async throws {
        let result = try await onLoop { loop -> ([Int], Duration, Int, Int) in
            let before = loop.openHandleCount
            var during = 0
            let start = ContinuousClock.now
            var seen: [Int] = []
            for try await tick in loop.ticks(every: .milliseconds(5)) {
                seen.append(tick)
                during = loop.openHandleCount
                if seen.count == 3 { break }
            }
            return (seen, ContinuousClock.now - start, during - before, loop.openHandleCount - before)
        }
        #expect(result.0.count == 3)
        #expect(result.0 == result.0.sorted() && result.0.first ?? 0 >= 1)
        #expect(result.1 >= .milliseconds(15))
        #expect(result.2 == 1, "the timer was not open while iterating")
        #expect(result.3 == 0, "the timer was left open after break")
    }

    @Test("a slow consumer gets no backlog: ticks missed while busy are skipped")
    func coalesces() async throws {
        let ticks = try await onLoop { loop -> [Int] in
            var seen: [Int] = []
            for try await tick in loop.ticks(every: .milliseconds(2)) {
                seen.append(tick)
                if seen.count == 2 { break }
                // Long against the 2 ms interval: only a loop stalled for all of it (a slow,
                // sanitized build) would see no tick in between.
                try await loop.sleep(for: .milliseconds(100))
            }
            return seen
        }
        #expect(ticks.count == 2)
        #expect(ticks[1] - ticks[0] > 1, "ticks queued up while the consumer slept: \(ticks)")
    }

    @Test("cancelling the iterating task ends it at once and closes the timer")
    func cancel() async throws {
        let result = try await onLoop { loop -> (String, Int) in
            let before = loop.openHandleCount
            var outcome = "ended"
            let task = loop.spawn {
                do {
                    for try await _ in loop.ticks(every: .seconds(3600)) {}
                } catch is CancellationError {
                    outcome = "cancelled"
                }
            }
            await Task.yield()
            task.cancel()
            await task.value
            return (outcome, loop.openHandleCount - before)
        }
        #expect(result.0 == "cancelled")
        #expect(result.1 == 0)
    }

    @Test("withDeadline times out at the deadline, and passes a result through before it")
    func deadline() async throws {
        let result = try await onLoop { loop -> (Int, Bool) in
            let value = try await loop.withDeadline(.now + .seconds(10)) { 7 }
            var timedOut = false
            do {
                try await loop.withDeadline(.now + .milliseconds(10)) { try await loop.sleep(for: .seconds(3600)) }
            } catch is TimeoutError {
                timedOut = true
            }
            return (value, timedOut)
        }
        #expect(result.0 == 7)
        #expect(result.1)
    }
}
