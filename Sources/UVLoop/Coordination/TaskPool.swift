/// Runs at most `size` spawned tasks at once on a loop, like eventlet's `GreenPool`.
///
/// ``spawn(_:)`` waits while the pool is full, which gives a producer natural backpressure;
/// ``waitAll()`` waits until every task it started has ended.
///
/// ```swift
/// let pool = TaskPool(size: 8, on: loop)
/// for url in urls { try await pool.spawn { try await check(url) } }
/// try await pool.waitAll()
/// ```
public final class TaskPool {
    let loop: Loop
    /// The most tasks running at once.
    public let size: Int
    /// Tasks running now.
    public private(set) var running = 0
    private let slots: WaitQueue<Void>
    private let idle: WaitQueue<Void>

    /// Creates a pool running at most `size` tasks at once on `loop`. A size below 1 is a
    /// programming error and traps.
    public init(size: Int, on loop: Loop) {
        precondition(size > 0, "TaskPool size must be 1 or more (tasks run at once); got \(size)")
        self.loop = loop
        self.size = size
        slots = WaitQueue(loop: loop)
        idle = WaitQueue(loop: loop)
    }

    /// Starts `body` as a task on the loop, first waiting while `size` tasks are running.
    /// Errors the task throws go to the loop's `onUncaughtError`, like ``Loop/spawn(_:)``.
    public func spawn(_ body: @escaping () async throws -> Void) async throws {
        while running >= size { try await slots.wait() }
        running += 1
        loop.spawn { [self] in
            defer { finished() }
            try await body()
        }
    }

    /// Waits until no task of the pool is running.
    public func waitAll() async throws {
        while running > 0 { try await idle.wait() }
    }

    private func finished() {
        running -= 1
        slots.resumeFirst(with: .success(()))
        if running == 0 { idle.resumeAll(with: .success(())) }
    }
}
