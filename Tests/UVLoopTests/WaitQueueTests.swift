import Testing
import UVLoopTestSupport

@testable import UVLoop

@Suite("WaitQueue")
struct WaitQueueTests {
    @Test("cancelling 10,000 of 20,000 waiters resumes each with CancellationError; the rest keep their order")
    func cancelManyWaiters() async throws {
        let count = 20_000
        let outcome = try await onLoop { loop -> (cancelled: Int, served: [Int], values: [Int], left: Int) in
            let queue = WaitQueue<Int>(loop: loop)
            var cancelled = 0
            var served: [Int] = []
            var values: [Int] = []
            var tasks: [SpawnedTask] = []
            for index in 0..<count {
                tasks.append(
                    loop.spawn {
                        do {
                            values.append(try await queue.wait())
                            served.append(index)
                        } catch is CancellationError {
                            cancelled += 1
                        }
                    })
            }
            // The spawned tasks run, and queue, in the order they were spawned, once this one yields.
            while queue.count < count { await Task.yield() }
            // Every other waiter, from both ends inwards, so removals hit the front, back and middle.
            for index in stride(from: 0, to: count / 2, by: 2) {
                tasks[index].cancel()
                tasks[count - 1 - index].cancel()
            }
            for task in tasks where task.isCancelled { await task.value }
            let left = queue.count
            var next = 0
            while queue.resumeFirst(with: .success(next)) { next += 1 }
            for task in tasks { await task.value }
            return (cancelled, served, values, left)
        }
        let kept = (0..<count).filter { index in index < count / 2 ? index % 2 == 1 : (count - 1 - index) % 2 == 1 }
        #expect(outcome.cancelled == count / 2)
        #expect(outcome.left == count / 2)
        #expect(outcome.served == kept, "the waiters left are served in the order they came")
        #expect(outcome.values == Array(0..<kept.count))
    }
}
