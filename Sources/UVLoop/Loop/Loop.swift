import CLibUV

/// One libuv event loop on one thread, and the executor of the tasks it runs.
///
/// Every task started by ``run(_:)``, ``spawn(_:)`` or ``withSpawnGroup(_:)`` prefers the loop as
/// its executor (SE-0417), so plain `async` code — reading a line, writing, sleeping — runs on the
/// loop's thread and resumes there after each wait, with no hop to another thread. Streams,
/// listeners and timers belong to the loop that made them and are used from its tasks only.
///
/// ```swift
/// try Loop.run { loop in
///     let server = try TCPListener(host: "127.0.0.1", port: 3000, on: loop)
///     for try await client in server.connections {
///         loop.spawn {
///             defer { client.close() }
///             for try await line in client.lines { try client.write(line + "\n") }
///         }
///     }
/// }
/// ```
public final class Loop: @unchecked Sendable {
    // @unchecked Sendable: every mutable property is touched only on the loop thread (asserted
    // by `assertOnLoop`); the only entry points from other threads are `execute` and `stop`,
    // which go through the executor's mutex-guarded queue and `uv_async_send`.

    let uv: UnsafeMutablePointer<uv_loop_t>
    let executor: LoopExecutor
    /// The spawned tasks by slot: `nil` where a task ended, and the slot is in `freeSlots`.
    /// A task knows its slot (captured beside its body), so it clears it in O(1) when it ends.
    private var spawned: [Task<Void, any Error>?] = []
    private var freeSlots: [Int] = []
    /// The number of spawned tasks still running.
    private var spawnedCount = 0
    private var root: Task<Void, Never>?
    private var isStopping = false
    private var tasksEnded: UnsafeContinuation<Void, Never>?
    private var pendingShutdownTimer: LoopTimer?
    /// How long shutdown waits for cancelled tasks to end before it closes their handles anyway.
    public var shutdownGracePeriod: Duration = .seconds(2)
    /// One read buffer shared by every stream of the loop: libuv calls alloc, read, then the read
    /// callback in sequence on this thread, and the callback copies what it keeps.
    let readBuffer: UnsafeMutableRawBufferPointer
    /// Recycled write requests, so a write costs no allocation.
    // @exclusivity(unchecked) below: loop-thread-only state, and no access to it spans a call
    // that could reach it again, so the runtime's dynamic exclusivity checks cannot fire.
    @exclusivity(unchecked) var writeRequests = WriteRequestPool()
    /// The tasks waiting in a stream's `drain` or `flush`, by stream, oldest first. Kept here
    /// rather than in every stream, which would spend 16 bytes per connection on a rare wait.
    @exclusivity(unchecked) var writeWaiters: [ObjectIdentifier: [WriteWaiter]] = [:]
    /// The handlers waiting for input on a stream without a task (``Stream/whenReadable(_:)``):
    /// kept here rather than in every stream, like `writeWaiters`.
    @exclusivity(unchecked) var readHandlers = ReadHandlerTable()
    /// The id of the next wait in `drain` or `flush`, on any stream of the loop.
    @exclusivity(unchecked) var nextWriteWaiterID = 0
    /// Streams with bytes queued this iteration, flushed after the ready tasks have run.
    @exclusivity(unchecked) private var streamsToFlush: [Stream] = []
    /// The streams being flushed (swapped with `streamsToFlush`, so neither array is copied).
    @exclusivity(unchecked) private var streamsFlushing: [Stream] = []
    /// Actions to run before the next flush (``runBeforeFlush(_:)``), and the ones running.
    @exclusivity(unchecked) private var beforeFlush: [() -> Void] = []
    @exclusivity(unchecked) private var beforeFlushRunning: [() -> Void] = []
    /// Receives errors thrown by spawned tasks (other than cancellation); defaults to stderr.
    public var onUncaughtError: (any Error) -> Void = { error in
        printToStandardError("UVLoop: a spawned task failed: \(error)")
    }
    /// Called at shutdown with a description of every handle the program left open.
    public var onOpenHandlesAtShutdown: ([String]) -> Void = { handles in
        printToStandardError("UVLoop: \(handles.count) handle(s) left open at shutdown: \(handles.joined(separator: ", "))")
    }

    private init() throws(UVError) {
        ProcessSetup.once()
        uv = .allocate(capacity: 1)
        let status = uv_loop_init(uv)
        if status < 0 {
            uv.deallocate()
            throw UVError(code: status, operation: "create event loop")
        }
        executor = LoopExecutor(uv: uv)
        readBuffer = .allocate(byteCount: 64 * 1024, alignment: 16)
        uv.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        // Unowned: the executor is owned by this loop and never outlives it.
        executor.afterDrain = { [unowned self] in self.flushWrites() }
    }

    deinit {
        releaseHeld()
        writeRequests.drain()
        writeQueues.drain()
        readBuffer.deallocate()
        uv.deallocate()
    }

    /// Runs a new event loop on the calling thread until `body` returns and the loop has shut down.
    ///
    /// When `body` returns or throws (or ``stop()`` is called), the loop cancels the tasks it
    /// spawned, waits for them to end, closes any handle still open (reporting it through
    /// ``onOpenHandlesAtShutdown``), and returns `body`'s result or rethrows its error.
    ///
    /// Blocks the calling thread; call it from synchronous code such as `main`. `body` is
    /// `@Sendable` so that, written in `main.swift`, it does not inherit the main actor — whose
    /// queue cannot run while this thread runs the loop.
    @available(*, noasync, message: "Loop.run blocks its thread; call it from synchronous code")
    public static func run<T>(_ body: @escaping @Sendable (Loop) async throws -> T) throws -> T {
        let loop = try Loop()
        let outcome = UncheckedBox<Result<T, any Error>?>(nil)
        // Safe: the box and body are used only by the root task, which runs on this thread.
        let work = UncheckedBox(body)
        loop.executor.install()
        loop.root = Task(executorPreference: loop.executor) {
            do {
                outcome.value = .success(try await work.value(loop))
            } catch {
                outcome.value = .failure(error)
            }
            await loop.shutDown()
        }
        let outer = Loop.current
        Loop.setCurrent(loop)
        defer { Loop.setCurrent(outer) }
        uv_run(loop.uv, UV_RUN_DEFAULT)
        loop.finish()
        // Force-unwrap: the root task always stores an outcome before the loop is stopped.
        return try outcome.value!.get()
    }

    /// Starts a task on this loop without waiting for it, like eventlet's `spawn_n`.
    ///
    /// The task may capture the caller's non-`Sendable` state (a participant list, a stream):
    /// both run only on this loop's thread, one at a time. Call it from the loop's own tasks.
    /// An error the task throws, other than `CancellationError`, goes to ``onUncaughtError``.
    /// The loop cancels the task when it stops.
    ///
    /// Memory: a spawned task costs its task object and first allocator slab (about 1.3 KB) plus
    /// one 48-byte block; a closure that captures a single reference (`client` below) uses it as
    /// its context, while one that captures more costs a block of its own.
    ///
    /// ```swift
    /// loop.spawn { try await handle(client) }
    /// ```
    @discardableResult
    public func spawn(_ body: @escaping () async throws -> Void) -> SpawnedTask {
        // Safe: spawn runs on the loop thread (asserted) and the task runs only on the loop's
        // executor, so the captured state is never touched by two threads.
        let work = SpawnedBody(body)
        let slot = reserveSpawnSlot()
        // Kept minimal: this closure's context is allocated once per task and lives as long as
        // the task. It holds the body and the slot (24 bytes, one 48-byte heap block); the loop
        // is found again through `Loop.current` when the task ends rather than captured. It is
        // typed as throwing so the runtime needs no thunk around it (see `SpawnedTask`).
        let task = Task(executorPreference: executor) { () async throws -> Void in
            do { try await work.run() } catch { Loop.onLoopThread.spawnedTaskFailed(error) }
            Loop.onLoopThread.spawnedTaskEnded(slot: slot)
        }
        return register(task, slot: slot)
    }

    /// A free slot in `spawned` for a task about to start.
    private func reserveSpawnSlot() -> Int {
        assertOnLoop("spawn")
        if let slot = freeSlots.popLast() { return slot }
        spawned.append(nil)
        return spawned.count - 1
    }

    /// Records a task started in `slot`; cancels it at once if the loop is stopping.
    private func register(_ task: Task<Void, any Error>, slot: Int) -> SpawnedTask {
        spawned[slot] = task
        spawnedCount += 1
        if isStopping { task.cancel() }
        return SpawnedTask(task: task)
    }

    private func spawnedTaskFailed(_ error: any Error) {
        if !(error is CancellationError) { onUncaughtError(error) }
    }

    private func spawnedTaskEnded(slot: Int) {
        spawned[slot] = nil
        freeSlots.append(slot)
        spawnedCount -= 1
        if spawnedCount == 0 { tasksEnded.take()?.resume() }
    }

    /// Runs `body` on this loop from any thread, as a new task; returns at once.
    ///
    /// This is the way in from other threads: the job is queued with a mutex and the loop is woken
    /// with `uv_async_send`.
    public func execute(_ body: @escaping @Sendable (Loop) async throws -> Void) {
        Task(executorPreference: executor) {
            self.spawn { try await body(self) }
        }
    }

    /// Asks the loop to stop: cancels its tasks, then ``run(_:)`` closes what is left and returns.
    ///
    /// Safe to call from any thread.
    public func stop() {
        Task(executorPreference: executor) {
            self.root?.cancel()
            self.cancelSpawned()
        }
    }

    /// True when the calling code runs on this loop's thread.
    public var isOnLoopThread: Bool { executor.isOnLoopThread }

    /// The number of handles (streams, listeners, timers, signals) open on this loop.
    public var openHandleCount: Int {
        assertOnLoop("openHandleCount")
        return openHandleDescriptions().count
    }

    /// Emptied write queues, lent to streams so that writing allocates nothing.
    @exclusivity(unchecked) var writeQueues = WriteQueuePool()

    /// A write request finished: drops its chunks' references and takes back its queue and itself.
    func finish(_ request: UnsafeMutablePointer<WriteRequest>) {
        if let queue = request.pointee.queue.take() {
            queue.releaseUnwritten()
            writeQueues.give(queue)
        }
        writeRequests.give(request)
    }

    /// The storage of the bytes queued since the last flush, one reference each, dropped once
    /// every stream has been flushed: a queued chunk borrows its storage from here, so a line
    /// written to 1,000 streams costs one reference, not 1,000.
    @exclusivity(unchecked) private var heldUntilFlushed: [Unmanaged<ByteStorage>] = []

    /// The edge-triggered reader of this loop's TCP streams, made on first use; nil if
    /// turned off or refused (``EdgeReader``).
    var edgeReader: EdgeReader? {
        if !isEdgeReaderMade {
            isEdgeReaderMade = true
            madeEdgeReader = EdgeReader.isEnabled ? EdgeReader(loop: uv) : nil
        }
        return madeEdgeReader
    }
    private var madeEdgeReader: EdgeReader?
    private var isEdgeReaderMade = false

    /// True for the loop's own handles, which are neither reported nor closed as the user's.
    func isInternal(_ handle: UnsafeMutablePointer<uv_handle_t>) -> Bool {
        if executor.isInternal(handle) { return true }
        return madeEdgeReader.map { asHandle($0.handle) == handle } ?? false
    }

    /// Keeps `storage` alive until the end of the next flush of every stream's queue.
    func holdUntilFlushed(_ storage: ByteStorage) {
        heldUntilFlushed.append(.passRetained(storage))
    }

    /// Queues `stream` to hand its written bytes to libuv after this round of tasks.
    func scheduleFlush(_ stream: Stream) {
        streamsToFlush.append(stream)
    }

    /// Runs `action` once, on the loop thread, after the tasks ready now have run and before the
    /// bytes queued on streams go to the kernel; an action may write to streams.
    ///
    /// For a stream that transforms what it is given (TLS encrypts it): it collects the writes
    /// of one iteration and turns them into one write of its own here. Costs an array append,
    /// not a task. Loop thread only.
    public func runBeforeFlush(_ action: @escaping () -> Void) {
        assertOnLoop("runBeforeFlush")
        beforeFlush.append(action)
    }

    /// Hands every stream's queued bytes to the kernel (one `writev` per stream per iteration),
    /// then drops the references that kept the queued bytes alive.
    private func flushWrites() {
        while !beforeFlush.isEmpty {
            swap(&beforeFlush, &beforeFlushRunning)
            for action in beforeFlushRunning { action() }
            beforeFlushRunning.removeAll(keepingCapacity: true)
        }
        while !streamsToFlush.isEmpty {
            swap(&streamsToFlush, &streamsFlushing)
            for stream in streamsFlushing { stream.flushQueued() }
            streamsFlushing.removeAll(keepingCapacity: true)
        }
        releaseHeld()
    }

    /// Drops the references taken by ``holdUntilFlushed(_:)``.
    private func releaseHeld() {
        guard !heldUntilFlushed.isEmpty else { return }
        for storage in heldUntilFlushed { storage.release() }
        heldUntilFlushed.removeAll(keepingCapacity: true)
    }

    func assertOnLoop(_ operation: @autoclosure () -> String) {
        precondition(
            executor.isOnLoopThread,
            """
            UVLoop: \(operation()) must run on its loop's thread, but ran on another thread. Usual cause: a `Task { }` \
            or `Task.detached { }` started in loop code — unstructured tasks do not inherit the loop's executor, so \
            they run on Swift's thread pool. Start loop work with `loop.spawn { }` (or `loop.spawnTask { }` to await \
            its result, `async let`, `loop.withSpawnGroup`); from another thread, use `loop.execute { loop in ... }`.
            """
        )
    }

    private func cancelSpawned() {
        isStopping = true
        for task in spawned { task?.cancel() }
    }

    /// Ends the spawned tasks once the root task is done, then stops `uv_run`.
    private func shutDown() async {
        cancelSpawned()
        // Cancelled tasks end at their next wait; one that ignores cancellation is waited for
        // at most `shutdownGracePeriod`, then reported and abandoned.
        let deadline = ContinuousClock.now + shutdownGracePeriod
        while spawnedCount > 0 && ContinuousClock.now < deadline {
            await withUnsafeContinuation { continuation in
                tasksEnded = continuation
                // Re-check on a timer so a task that never ends cannot hold shutdown forever.
                let timer = LoopTimer(loop: self) { [unowned self] in
                    self.tasksEnded.take()?.resume()
                }
                timer.start(after: .milliseconds(20))
                pendingShutdownTimer = timer
            }
            pendingShutdownTimer?.close()
            pendingShutdownTimer = nil
        }
        if spawnedCount > 0 {
            printToStandardError("UVLoop: \(spawnedCount) task(s) did not end within \(shutdownGracePeriod) of cancellation")
        }
        let leftovers = openHandleDescriptions()
        if !leftovers.isEmpty { onOpenHandlesAtShutdown(leftovers) }
        closeAllHandles()
        uv_stop(uv)
    }

    /// Describes each user handle still open (not closing) on the loop.
    func openHandleDescriptions() -> [String] {
        var found: [String] = []
        withUnsafeMutablePointer(to: &found) { list in
            uv_walk(
                uv,
                { handle, arg in
                    guard let handle, uv_is_closing(handle) == 0, let arg else { return }
                    let loop = Unmanaged<Loop>.fromOpaque(handle.pointee.loop.pointee.data).takeUnretainedValue()
                    if loop.isInternal(handle) { return }
                    arg.assumingMemoryBound(to: [String].self).pointee.append(Loop.describe(handle))
                }, list)
        }
        return found
    }

    private static func describe(_ handle: UnsafeMutablePointer<uv_handle_t>) -> String {
        if let data = handle.pointee.data,
            let owner = Unmanaged<AnyObject>.fromOpaque(data).takeUnretainedValue() as? HandleOwner
        {
            return owner.handleDescription
        }
        return String(cString: uv_handle_type_name(uv_handle_get_type(handle)))
    }

    private func closeAllHandles() {
        uv_walk(
            uv,
            { handle, _ in
                guard let handle, uv_is_closing(handle) == 0 else { return }
                let loop = Unmanaged<Loop>.fromOpaque(handle.pointee.loop.pointee.data).takeUnretainedValue()
                if loop.isInternal(handle) { return }
                if let data = handle.pointee.data,
                    let owner = Unmanaged<AnyObject>.fromOpaque(data).takeUnretainedValue() as? HandleOwner
                {
                    owner.closeHandle()
                }
            }, nil)
    }

    /// Runs the loop until every close callback has run, then releases libuv's loop.
    private func finish() {
        madeEdgeReader?.close()
        madeEdgeReader = nil
        executor.uninstall()
        repeat {
            executor.takeRemoteJobs()
            executor.drain()
            // Blocks only while libuv still has work (a close callback, a thread-pool request).
            uv_run(uv, executor.hasPendingJobs ? UV_RUN_NOWAIT : UV_RUN_ONCE)
        } while uv_loop_alive(uv) != 0 || executor.hasPendingJobs
        let status = uv_loop_close(uv)
        if status < 0 {
            printToStandardError("UVLoop: loop closed with handles still registered: \(UVError(code: status, operation: "close loop"))")
        }
    }
}

/// A spawned task's body, moved into the task. Non-generic, so the closure is stored and
/// called as it is (a generic wrapper would box it in a reabstraction thunk: another heap
/// block, and another frame in every idle task).
struct SpawnedBody: @unchecked Sendable {
    // @unchecked Sendable: created on the loop thread and run by a task on the loop's executor.
    let run: () async throws -> Void
    init(_ run: @escaping () async throws -> Void) { self.run = run }
}

/// A value moved between closures that provably run on one thread; see each use for the proof.
final class UncheckedBox<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}

/// An object that owns a libuv handle and can describe and close it.
protocol HandleOwner: AnyObject {
    var handleDescription: String { get }
    func closeHandle()
}

func printToStandardError(_ message: String) {
    var line = message
    line.append("\n")
    line.withUTF8 { buffer in _ = write(2, buffer.baseAddress, buffer.count) }
}
