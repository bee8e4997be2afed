import CLibUV
import Synchronization

/// The executor of one ``Loop``: runs Swift jobs on the loop's thread, between libuv's phases.
///
/// Jobs enqueued on the loop thread go to a ring buffer (``FIFO``); jobs from other threads go to a
/// mutex-guarded list and wake the loop with `uv_async_send`. The local queue is drained in the
/// loop's prepare phase (before it blocks in poll) and check phase (right after poll ran the I/O
/// callbacks), so every continuation resumed by a libuv callback runs in the same iteration, and
/// the loop never blocks while a job is ready. A drain is bounded; if jobs remain, an idle handle
/// keeps the next poll from blocking, so I/O is never starved by a task that keeps yielding.
final class LoopExecutor: TaskExecutor, @unchecked Sendable {
    // @unchecked Sendable: `local`, the handles and `running` are touched only on the loop thread
    // (asserted by callers); `remote` is a Mutex; `thread` is written once before the loop runs.

    let uv: UnsafeMutablePointer<uv_loop_t>
    private(set) var thread: pthread_t
    // @exclusivity(unchecked) below: loop-thread-only state, and no access to it spans a call
    // that could reach it again, so the runtime's dynamic exclusivity checks cannot fire.
    @exclusivity(unchecked) private var local = FIFO<UnownedJob>()
    private let remote = Mutex(RemoteQueue())
    private var isUninstalled = false
    private let async: UnsafeMutablePointer<uv_async_t>
    private let prepare: UnsafeMutablePointer<uv_prepare_t>
    private let check: UnsafeMutablePointer<uv_check_t>
    private let idle: UnsafeMutablePointer<uv_idle_t>
    private var idleActive = false
    private var draining = false
    /// Runs after each drain, on the loop thread: the loop flushes queued writes here.
    var afterDrain: () -> Void = {}
    /// Jobs run per drain before I/O gets its turn again.
    private let budget = 4096

    init(uv: UnsafeMutablePointer<uv_loop_t>) {
        self.uv = uv
        self.thread = pthread_self()
        async = .allocate(capacity: 1)
        prepare = .allocate(capacity: 1)
        check = .allocate(capacity: 1)
        idle = .allocate(capacity: 1)
    }

    /// Installs the internal handles; call on the loop thread before `uv_run`.
    func install() {
        thread = pthread_self()
        let context = Unmanaged.passUnretained(self).toOpaque()
        uv_async_init(uv, async) { handle in
            LoopExecutor.from(handle).takeRemote()
        }
        async.pointee.data = context
        uv_prepare_init(uv, prepare)
        prepare.pointee.data = context
        uv_prepare_start(prepare) { handle in LoopExecutor.from(handle).drain() }
        uv_check_init(uv, check)
        check.pointee.data = context
        uv_check_start(check) { handle in LoopExecutor.from(handle).drain() }
        uv_idle_init(uv, idle)
        idle.pointee.data = context
    }

    var internalHandles: [UnsafeMutablePointer<uv_handle_t>] {
        [
            UnsafeMutableRawPointer(async).assumingMemoryBound(to: uv_handle_t.self),
            UnsafeMutableRawPointer(prepare).assumingMemoryBound(to: uv_handle_t.self),
            UnsafeMutableRawPointer(check).assumingMemoryBound(to: uv_handle_t.self),
            UnsafeMutableRawPointer(idle).assumingMemoryBound(to: uv_handle_t.self),
        ]
    }

    func isInternal(_ handle: UnsafeMutablePointer<uv_handle_t>) -> Bool {
        internalHandles.contains(handle)
    }

    /// Closes the internal handles; their memory is freed in the close callbacks.
    func uninstall() {
        isUninstalled = true
        remote.withLock { $0.isClosed = true }
        for handle in internalHandles where uv_is_closing(handle) == 0 {
            uv_close(handle) { handle in handle?.deallocate() }
        }
    }

    private static func from<H>(_ handle: UnsafeMutablePointer<H>?) -> LoopExecutor {
        let raw = UnsafeMutableRawPointer(handle!).assumingMemoryBound(to: uv_handle_t.self)
        // Unmanaged: the Loop owns this executor and outlives its internal handles.
        return Unmanaged<LoopExecutor>.fromOpaque(raw.pointee.data).takeUnretainedValue()
    }

    var isOnLoopThread: Bool { pthread_equal(pthread_self(), thread) != 0 }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        if isOnLoopThread {
            local.append(job)
        } else {
            let open = remote.withLock { queue in
                queue.jobs.append(job)
                return !queue.isClosed
            }
            // After shutdown the async handle is gone: such a job is never run (documented on Loop).
            if open { uv_async_send(async) }
        }
    }

    func asUnownedTaskExecutor() -> UnownedTaskExecutor {
        UnownedTaskExecutor(ordinary: self)
    }

    private func takeRemote() {
        let jobs = remote.withLock { queue in
            let taken = queue.jobs
            queue.jobs.removeAll(keepingCapacity: true)
            return taken
        }
        for job in jobs { local.append(job) }
        drain()
    }

    /// Runs ready jobs, at most `budget` of them; keeps poll from blocking if any remain.
    func drain() {
        if draining { return }
        draining = true
        var ran = 0
        while ran < budget, let job = local.popFirst() {
            // Run as a task-executor job, not isolated to a serial executor: nonisolated async
            // code then needs no executor switch (a switch would requeue the task on every call).
            job.runSynchronously(on: asUnownedTaskExecutor())
            ran += 1
        }
        afterDrain()
        draining = false
        let pending = !local.isEmpty
        if isUninstalled { return }
        if pending && !idleActive {
            uv_idle_start(idle) { _ in }
            idleActive = true
        } else if !pending && idleActive {
            uv_idle_stop(idle)
            idleActive = false
        }
    }

    /// True when a job is ready or waiting to be handed over from another thread.
    var hasPendingJobs: Bool {
        !local.isEmpty || remote.withLock { !$0.jobs.isEmpty }
    }

    /// Moves jobs handed over from other threads to the local queue (used while shutting down).
    func takeRemoteJobs() {
        let jobs = remote.withLock { queue in
            let taken = queue.jobs
            queue.jobs.removeAll()
            return taken
        }
        for job in jobs { local.append(job) }
    }
}

/// Jobs handed to the loop from other threads.
struct RemoteQueue {
    var jobs: [UnownedJob] = []
    var isClosed = false
}
