import Synchronization
import Testing
import UVLoop
import UVLoopTestSupport

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Loop")
struct LoopTests {
    @Test("runs its tasks, spawned ones included, on the loop's own thread")
    func runsTasksOnItsThread() async throws {
        let threads = try await onLoop { loop in
            var seen: [pthread_t] = [pthread_self()]
            try await loop.withSpawnGroup { group in
                for _ in 0..<3 {
                    group.spawn {
                        try await loop.sleep(for: .milliseconds(1))
                        seen.append(pthread_self())
                    }
                }
            }
            loop.spawn { seen.append(pthread_self()) }
            // After awaiting a wait, the task resumes on the loop thread again.
            try await loop.sleep(for: .milliseconds(1))
            seen.append(pthread_self())
            #expect(loop.isOnLoopThread)
            return seen
        }
        #expect(threads.count == 6)
        #expect(Set(threads).count == 1, "every job ran on one thread")
    }

    @Test("spawn runs fire-and-forget tasks that share the caller's state")
    func spawnSharesState() async throws {
        let total = try await onLoop { loop in
            final class Counter { var value = 0 }
            let counter = Counter()
            var tasks: [SpawnedTask] = []
            for i in 1...10 {
                tasks.append(loop.spawn { counter.value += i })
            }
            for task in tasks { await task.value }
            return counter.value
        }
        #expect(total == 55)
    }

    @Test(
        "spawned tasks that end in any order are all waited for; shutdown cancels the rest", .timeLimit(.minutes(1)))
    func spawnedTasksEndInAnyOrder() async throws {
        let ended = try await onLoop { loop in
            final class Counter { var value = 0 }
            let counter = Counter()
            for i in 0..<200 {
                loop.spawn {
                    try await loop.sleep(for: .milliseconds((i * 7) % 13))
                    counter.value += 1
                }
            }
            try await loop.sleep(for: .milliseconds(50))
            let (client, server) = try await connectedPair(on: loop)
            for stream in [client, server] {
                loop.spawn {
                    defer { stream.close() }
                    _ = try await stream.readLine()
                }
            }
            return counter.value
        }
        #expect(ended == 200)
    }

    @Test("withSpawnGroup cancels the other tasks when one throws, and rethrows")
    func spawnGroupPropagatesErrors() async throws {
        struct Boom: Error {}
        let outcome = try await onLoop { loop -> String in
            do {
                try await loop.withSpawnGroup { group in
                    group.spawn { try await loop.sleep(for: .seconds(30)) }
                    group.spawn { throw Boom() }
                }
                return "no error"
            } catch is Boom {
                return "boom"
            }
        }
        #expect(outcome == "boom")
    }

    @Test("a job sent from another thread wakes the loop")
    func executeFromAnotherThread() async throws {
        let value = try await onLoop { loop -> Int in
            let received = Waitable()
            // A detached task runs on Swift's global pool, not on the loop.
            Task.detached {
                loop.execute { loop in received.signal(loop.isOnLoopThread ? 42 : -1) }
            }
            return try await received.wait(on: loop)
        }
        #expect(value == 42)
    }

    @Test("stop() cancels running tasks and run returns")
    func stopCancelsTasks() async throws {
        let cancelled = try await onLoop { loop -> Bool in
            var sawCancellation = false
            let sleeper = loop.spawn {
                do {
                    try await loop.sleep(for: .seconds(60))
                } catch is CancellationError {
                    sawCancellation = true
                }
            }
            loop.spawn {
                try await loop.sleep(for: .milliseconds(5))
                loop.stop()
            }
            do {
                try await loop.sleep(for: .seconds(60))
            } catch is CancellationError {}
            await sleeper.value
            return sawCancellation
        }
        #expect(cancelled)
    }

    @Test("reports handles left open at shutdown, and closes them")
    func reportsOpenHandles() async throws {
        let leaks = LeakRecorder()
        try await Loop.runOnNewThread { loop in
            loop.onOpenHandlesAtShutdown = { handles in leaks.handles.withLock { $0 = handles } }
            _ = try TCPListener(host: "127.0.0.1", port: 0, on: loop)
        }
        let reported = leaks.handles.withLock { $0 }
        #expect(reported.count == 1)
        #expect(reported.first?.hasPrefix("TCP listener 127.0.0.1:") == true)
    }

    @Test("Task.sleep works inside loop tasks and resumes on the loop thread")
    func taskSleepWorks() async throws {
        let onThread = try await onLoop { loop in
            try await Task.sleep(for: .milliseconds(2))
            return loop.isOnLoopThread
        }
        #expect(onThread)
    }

    @Test("raises the soft open-file limit to the hard limit")
    func raisesOpenFileLimit() async throws {
        _ = try await onLoop { _ in 0 }
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        #expect(limit.rlim_cur == limit.rlim_max)
        #expect(Loop.openFileLimit == Int(clamping: limit.rlim_cur))
    }
}

/// A value handed from another thread to a task on a loop (test helper).
final class Waitable: Sendable {
    private let state = Mutex<(value: Int?, waiter: UnsafeContinuation<Int, Never>?)>((nil, nil))

    func signal(_ value: Int) {
        let waiter = state.withLock { state -> UnsafeContinuation<Int, Never>? in
            state.value = value
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: value)
    }

    func wait(on loop: Loop) async throws -> Int {
        await withUnsafeContinuation { continuation in
            let ready = state.withLock { state -> Int? in
                if let value = state.value { return value }
                state.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}
