import Dispatch
import Glibc
import Synchronization
import Testing
import UVLoop
import UVLoopTestSupport

/// A flag shared between a pool job and the test.
final class SharedFlag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .sequentiallyConsistent) }
    var isSet: Bool { value.load(ordering: .sequentiallyConsistent) }
}

/// The number of threads in libuv's pool, as libuv reads it.
let threadPoolSize: Int = {
    if let text = getenv("UV_THREADPOOL_SIZE"), let size = Int(String(cString: text)), size > 0 { return min(size, 1024) }
    return 4
}()

// Serialized: one test fills the shared pool, and another keeps a job running in it.
@Suite("runBlocking", .serialized)
struct LoopBlockingTests {
    struct Failure: Error, Equatable { let reason: String }

    @Test("returns the closure's result, computed off the loop thread")
    func result() async throws {
        let (onLoopThread, value) = try await onLoop { loop in
            try await loop.runBlocking { (loop.isOnLoopThread, 6 * 7) }
        }
        #expect(!onLoopThread)
        #expect(value == 42)
    }

    @Test("rethrows the closure's error")
    func error() async throws {
        let caught = try await onLoop { loop -> Failure? in
            do {
                _ = try await loop.runBlocking { () throws -> Int in throw Failure(reason: "disk on fire") }
                return nil
            } catch let error as Failure {
                return error
            }
        }
        #expect(caught == Failure(reason: "disk on fire"))
    }

    @Test("the loop keeps running while a job blocks")
    func loopNotBlocked() async throws {
        let released = try await onLoop { loop -> Bool in
            let gate = DispatchSemaphore(value: 0)
            let job = loop.spawn {
                // Returns false if the loop never got to open the gate.
                let released = try await loop.runBlocking { gate.wait(timeout: .now() + 10) == .success }
                #expect(released)
            }
            try await loop.sleep(for: .milliseconds(1))
            gate.signal()
            await job.value
            return true
        }
        #expect(released)
    }

    @Test("a job that has not started is cancelled and never runs")
    func cancelQueued() async throws {
        let ran = SharedFlag()
        let timedOut = try await onLoop { loop -> Bool in
            // Fill every pool thread, so the next job waits in the queue.
            let gate = DispatchSemaphore(value: 0)
            var blockers: [SpawnedTask] = []
            for _ in 0..<threadPoolSize {
                blockers.append(loop.spawn { _ = try await loop.runBlocking { gate.wait(timeout: .now() + 10) } })
            }
            await Task.yield()
            var timedOut = false
            do {
                try await loop.withTimeout(.milliseconds(20)) { try await loop.runBlocking { ran.set() } }
            } catch is TimeoutError {
                timedOut = true
            }
            for _ in blockers { gate.signal() }
            for blocker in blockers { await blocker.value }
            return timedOut
        }
        // The loop ran until every pool request had called back, so a job still queued would have run.
        #expect(timedOut)
        #expect(!ran.isSet, "the cancelled job ran")
    }

    @Test("a file request that has not started is cancelled and never happens")
    func cancelQueuedFileRequest() async throws {
        let result = try await onLoop { loop -> (Bool, Bool) in
            try await withTemporaryDirectory { dir in
                let gate = DispatchSemaphore(value: 0)
                var blockers: [SpawnedTask] = []
                for _ in 0..<threadPoolSize {
                    blockers.append(loop.spawn { _ = try await loop.runBlocking { gate.wait(timeout: .now() + 10) } })
                }
                await Task.yield()
                var timedOut = false
                do {
                    try await loop.withTimeout(.milliseconds(20)) { try await loop.fileSystem.makeDirectory(dir.file("never")) }
                } catch is TimeoutError {
                    timedOut = true
                }
                for _ in blockers { gate.signal() }
                for blocker in blockers { await blocker.value }
                return (timedOut, try await loop.fileSystem.exists(dir.file("never")))
            }
        }
        #expect(result.0)
        #expect(!result.1, "the cancelled mkdir ran")
    }

    @Test("a reverse lookup that has not started is cancelled at once")
    func cancelQueuedLookup() async throws {
        let timedOut = try await onLoop { loop -> Bool in
            let gate = DispatchSemaphore(value: 0)
            var blockers: [SpawnedTask] = []
            for _ in 0..<threadPoolSize {
                blockers.append(loop.spawn { _ = try await loop.runBlocking { gate.wait(timeout: .now() + 10) } })
            }
            await Task.yield()
            var timedOut = false
            do {
                _ = try await loop.withTimeout(.milliseconds(20)) {
                    try await loop.resolveName(of: SocketAddress(host: "127.0.0.1", port: 0))
                }
            } catch is TimeoutError {
                timedOut = true
            }
            for _ in blockers { gate.signal() }
            for blocker in blockers { await blocker.value }
            return timedOut
        }
        #expect(timedOut)
    }

    @Test("a started job runs to completion after its caller is cancelled, and the loop waits for it")
    func cancelRunning() async throws {
        let finished = SharedFlag()
        let outcome = try await onLoop { loop -> (String, Bool) in
            let started = DispatchSemaphore(value: 0)
            let gate = DispatchSemaphore(value: 0)
            var outcome = "returned"
            let caller = loop.spawn {
                do {
                    try await loop.runBlocking {
                        started.signal()
                        _ = gate.wait(timeout: .now() + 10)
                        finished.set()
                    }
                } catch is CancellationError {
                    outcome = "cancelled"
                }
            }
            await Task.yield()
            // Blocks the loop thread briefly: only a pool thread is needed to get past this.
            #expect(started.wait(timeout: .now() + 10) == .success)
            caller.cancel()
            await caller.value
            let finishedBeforeRelease = finished.isSet
            gate.signal()
            return (outcome, finishedBeforeRelease)
        }
        #expect(outcome.0 == "cancelled")
        #expect(!outcome.1, "the caller waited for the running job")
        #expect(finished.isSet, "the loop shut down before the running job finished")
    }

    @Test("a task cancelled before the call never queues the job")
    func alreadyCancelled() async throws {
        let ran = SharedFlag()
        let outcome = try await onLoop { loop -> String in
            var outcome = "returned"
            let caller = loop.spawn {
                withUnsafeCurrentTask { $0?.cancel() }
                do { try await loop.runBlocking { ran.set() } } catch is CancellationError { outcome = "cancelled" }
            }
            await caller.value
            return outcome
        }
        #expect(outcome == "cancelled")
        #expect(!ran.isSet)
    }
}
