import Testing
import UVLoop
import UVLoopTestSupport

@Suite("Time")
struct TimeTests {
    @Test("timers fire in deadline order, not start order")
    func timersFireInOrder() async throws {
        let order = try await onLoop { loop -> [Int] in
            var fired: [Int] = []
            try await loop.withSpawnGroup { group in
                for delay in [30, 10, 20, 0] {
                    group.spawn {
                        try await loop.sleep(for: .milliseconds(delay))
                        fired.append(delay)
                    }
                }
            }
            return fired
        }
        #expect(order == [0, 10, 20, 30])
    }

    @Test("sleep waits at least its duration")
    func sleepWaits() async throws {
        let elapsed = try await onLoop { loop in
            let start = ContinuousClock.now
            try await loop.sleep(for: .milliseconds(20))
            return ContinuousClock.now - start
        }
        #expect(elapsed >= .milliseconds(20))
    }

    @Test("a cancelled sleep throws CancellationError promptly")
    func cancelledSleepThrows() async throws {
        let result = try await onLoop { loop -> (String, Duration) in
            let start = ContinuousClock.now
            var outcome = "finished"
            let sleeper = loop.spawn {
                do {
                    try await loop.sleep(for: .seconds(30))
                } catch is CancellationError {
                    outcome = "cancelled"
                }
            }
            try await loop.sleep(for: .milliseconds(5))
            sleeper.cancel()
            await sleeper.value
            return (outcome, ContinuousClock.now - start)
        }
        #expect(result.0 == "cancelled")
        #expect(result.1 < .seconds(5))
    }

    @Test("a sleep cancelled from another thread ends promptly")
    func sleepCancelledFromAnotherThread() async throws {
        let outcome = try await onLoop { loop -> String in
            var outcome = "finished"
            let sleeper = loop.spawn {
                do {
                    try await loop.sleep(for: .seconds(30))
                } catch is CancellationError {
                    outcome = "cancelled"
                }
            }
            try await loop.sleep(for: .milliseconds(5))
            // Cancel from Swift's global pool: the handler must hop to the loop thread.
            await Task.detached { sleeper.cancel() }.value
            await sleeper.value
            return outcome
        }
        #expect(outcome == "cancelled")
    }

    @Test("a sleep in an already-cancelled task throws at once")
    func sleepInCancelledTask() async throws {
        let threw = try await onLoop { loop -> Bool in
            var threw = false
            try await loop.withSpawnGroup { group in
                group.cancelAll()
                group.spawn {
                    do { try await loop.sleep(for: .seconds(30)) } catch is CancellationError { threw = true }
                }
            }
            return threw
        }
        #expect(threw)
    }

    @Test("withTimeout returns the body's result when it is quick")
    func withTimeoutReturnsResult() async throws {
        let value = try await onLoop { loop in
            try await loop.withTimeout(.seconds(5)) {
                try await loop.sleep(for: .milliseconds(1))
                return 7
            }
        }
        #expect(value == 7)
    }

    @Test("withTimeout throws TimeoutError and cancels a slow body")
    func withTimeoutTimesOut() async throws {
        let outcome = try await onLoop { loop -> String in
            var bodyCancelled = false
            do {
                try await loop.withTimeout(.milliseconds(10)) {
                    do {
                        try await loop.sleep(for: .seconds(30))
                    } catch is CancellationError {
                        bodyCancelled = true
                        throw CancellationError()
                    }
                }
                return "no timeout"
            } catch let error as TimeoutError {
                return "\(error.timeout == .milliseconds(10)) \(bodyCancelled)"
            }
        }
        #expect(outcome == "true true")
    }

    @Test("TimeoutError has a public initializer and reads like a sentence, with and without a name")
    func timeoutErrorDescription() {
        let named = TimeoutError(timeout: .seconds(5), name: "idle")
        #expect(named.name == "idle")
        #expect(named.timeout == .seconds(5))
        #expect(named.description == "idle timed out after 5.0 seconds")
        #expect(TimeoutError(timeout: .milliseconds(250)).description == "timed out after 0.25 seconds")
        #expect(named == TimeoutError(timeout: .seconds(5), name: "idle"))
        #expect(named != TimeoutError(timeout: .seconds(5), name: "command"))
    }

    @Test("nested named timeouts: the one that fired is the one thrown, whichever it is")
    func nestedNamedTimeouts() async throws {
        let names = try await onLoop { loop -> [String?] in
            var fired: [String?] = []
            // The inner deadline fires first: the outer timeout rethrows the inner one's error.
            do {
                try await loop.withTimeout(.seconds(30), name: "idle") {
                    try await loop.withTimeout(.milliseconds(10), name: "command") {
                        try await loop.sleep(for: .seconds(30))
                    }
                }
            } catch let error as TimeoutError {
                fired.append(error.name)
            }
            // The outer one fires first: the inner body is cancelled and the outer error thrown.
            do {
                try await loop.withTimeout(.milliseconds(10), name: "idle") {
                    try await loop.withTimeout(.seconds(30), name: "command") {
                        try await loop.sleep(for: .seconds(30))
                    }
                }
            } catch let error as TimeoutError {
                fired.append(error.name)
            }
            // A deadline carries its name too.
            do {
                try await loop.withDeadline(.now + .milliseconds(5), name: "request") {
                    try await loop.sleep(for: .seconds(30))
                }
            } catch let error as TimeoutError {
                fired.append(error.name)
            }
            return fired
        }
        #expect(names == ["command", "idle", "request"])
    }
}
