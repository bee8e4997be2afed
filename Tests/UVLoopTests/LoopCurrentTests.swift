import Synchronization
import Testing
import UVLoop
import UVLoopTestSupport

@Suite("Loop.current, SpawnedTask and LoopBound")
struct LoopCurrentTests {
    @Test("Loop.current is the loop on its thread and in its spawned tasks, nil elsewhere")
    func current() async throws {
        #expect(Loop.current == nil)
        let seen = try await onLoop { loop -> [Bool] in
            var inTask = false
            await loop.spawn { inTask = Loop.current === loop }.value
            return [Loop.current === loop, inTask]
        }
        #expect(seen == [true, true])
        #expect(Loop.current == nil)
    }

    @Test("each loop of two threads is current on its own thread")
    func twoLoops() async throws {
        async let first = onLoop { loop in ObjectIdentifier(Loop.current!) == ObjectIdentifier(loop) }
        async let second = onLoop { loop in ObjectIdentifier(Loop.current!) == ObjectIdentifier(loop) }
        #expect(try await [first, second] == [true, true])
    }

    @Test("a spawned task's slot is reused: many short tasks in turn, then the loop shuts down at once")
    func slotsReused() async throws {
        let count = try await onLoop { loop in
            final class Counter { var value = 0 }
            let counter = Counter()
            for _ in 0..<1000 {
                // Each task ends before the next starts: one slot serves them all.
                await loop.spawn { counter.value += 1 }.value
            }
            return counter.value
        }
        #expect(count == 1000)
    }

    @Test("SpawnedTask: cancel wakes the task's wait, value waits for its end, isCancelled tells")
    func spawnedTaskCancel() async throws {
        let outcome = try await onLoop { loop -> (String, Bool) in
            var how = "running"
            let task = loop.spawn {
                do {
                    try await loop.sleep(for: .seconds(60))
                    how = "slept"
                } catch is CancellationError {
                    how = "cancelled"
                }
            }
            task.cancel()
            await task.value
            return (how, task.isCancelled)
        }
        #expect(outcome.0 == "cancelled")
        #expect(outcome.1)
    }

    @Test("an error a spawned task throws goes to onUncaughtError; value still returns")
    func spawnedTaskError() async throws {
        struct Oops: Error {}
        let reported = try await onLoop { loop -> String in
            var reported = ""
            loop.onUncaughtError = { reported = String(describing: $0) }
            await loop.spawn { throw Oops() }.value
            return reported
        }
        #expect(reported == "Oops()")
    }

    enum Shared {
        @TaskLocal static var names: LoopBound<NameList>?
    }

    final class NameList {
        var names: [String] = []
    }

    @Test("LoopBound carries loop-only state in a task-local value that spawned tasks inherit")
    func loopBoundTaskLocal() async throws {
        let names = try await onLoop { loop -> [String] in
            let list = NameList()
            let tasks = Shared.$names.withValue(LoopBound(list, on: loop)) {
                ["a", "b", "c"].map { name in loop.spawn { Shared.names?.value.names.append(name) } }
            }
            for task in tasks { await task.value }
            // Spawned outside the binding: inherits nothing.
            await loop.spawn { if Shared.names == nil { list.names.append("none") } }.value
            return list.names.sorted()
        }
        #expect(names == ["a", "b", "c", "none"])
    }
}
