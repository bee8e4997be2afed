import CLibUV
import Glibc

/// A byte stream on a loop — the common API of TCP connections, Unix-domain sockets, pipes and TTYs.
///
/// Reading is buffered: ``readLine()`` and ``lines`` split input into lines; ``read()`` returns
/// whatever arrived. Writing never blocks: ``write(_:)`` queues the bytes, and the loop hands
/// every stream's queued bytes to the kernel once per loop iteration, in one system call per
/// stream, so a line written to many streams is neither copied nor flushed per recipient.
/// ``drain()`` waits when the queue passes ``highWaterMark`` (backpressure); ``flush()`` waits
/// until everything is written.
///
/// A stream belongs to its loop: use it from the loop's tasks. Close it with ``close()``; a
/// stream that is dropped without closing stays open until its loop shuts down, which reports it.
public class Stream: HandleOwner {
    /// The loop the stream belongs to.
    public let loop: Loop
    let stream: UnsafeMutablePointer<uv_stream_t>

    // Every open connection holds one of these, so the small fields come right after `reader`
    // and fill the padding at its end (stored properties are laid out in declaration order).
    // @exclusivity(unchecked) below: loop-thread-only state, and no access to it spans a call
    // that could reach it again, so the runtime's dynamic exclusivity checks cannot fire.
    @exclusivity(unchecked) var reader: LineReader
    private var isReading = false
    private var isAtEnd = false
    /// True while the socket is in the loop's ``EdgeReader`` set (it reads there, not in libuv).
    private var isEdgeRegistered = false
    @exclusivity(unchecked) private var isScheduled = false
    /// libuv error codes (0 for none) of the read and the write side, in 16 bits each (every
    /// libuv code lies in -4095...0), so that ``readHandlerSlot`` fits the object's 120 bytes.
    private var readFailureCode: Int16 = 0
    @exclusivity(unchecked) private var writeFailureCode: Int16 = 0
    /// True once ``close()`` was called.
    @exclusivity(unchecked) public private(set) var isClosed = false
    /// The slot in ``Loop/readHandlers`` of the handler from ``whenReadable(_:)`` that waits;
    /// `UInt32.max` while none does.
    private var readHandlerSlot = UInt32.max
    /// True while tasks wait in `drain` or `flush`: their continuations are kept by the loop
    /// (``Loop/writeWaiters``), not here, as few streams ever wait for writes.
    private var isWaitingForWrites = false
    /// The water marks, kept in 32 bits each (see ``highWaterMark``).
    private var highWater: Int32 = 64 * 1024
    private var lowWater: Int32 = 16 * 1024
    /// See ``collectionIndex``; `UInt32.max` for none. 32 bits, in the gap before the pointers,
    /// so the object does not grow (every connection holds one).
    private var collectionSlot = CollectionSlot()

    private var readFailure: Int32 {
        get { Int32(readFailureCode) }
        set { readFailureCode = Int16(clamping: newValue) }
    }
    private var writeFailure: Int32 {
        get { Int32(writeFailureCode) }
        set { writeFailureCode = Int16(clamping: newValue) }
    }

    // Read side.
    @exclusivity(unchecked) private var readWaiter: UnsafeContinuation<Void, any Error>?

    // Write side.
    /// Bytes written but not yet handed to the kernel (flushed once per loop iteration); `nil`
    /// while there are none, so an idle stream holds no queue.
    @exclusivity(unchecked) private var queue: WriteQueue?

    /// The stream's index in the collection its owner keeps it in, if the owner sets one: with
    /// it, finding (and removing) the stream there costs O(1) without a dictionary from streams
    /// to indices. UVLoop never reads it. `nil` until set; at most `UInt32.max - 1`.
    ///
    /// A stream has one such index: keep it in at most one collection that uses it.
    public var collectionIndex: Int? {
        get { collectionSlot.index }
        set { collectionSlot.index = newValue }
    }

    /// Once this many bytes are queued, ``drain()`` waits (default 64 KiB; at most 2 GiB).
    public var highWaterMark: Int {
        get { Int(highWater) }
        set { highWater = Int32(clamping: newValue) }
    }
    /// ``drain()`` resumes once the queue is down to this many bytes (default 16 KiB).
    public var lowWaterMark: Int {
        get { Int(lowWater) }
        set { lowWater = Int32(clamping: newValue) }
    }

    init(loop: Loop, stream: UnsafeMutablePointer<uv_stream_t>, maxLineLength: Int) {
        self.loop = loop
        self.stream = stream
        self.reader = LineReader(maxLineLength: maxLineLength)
        adopt(stream, owner: self)
    }

    deinit {
        // A queue left unflushed (a stream dropped at loop shutdown): its chunks hold no references.
        queue?.deallocate()
    }

    /// The longest line ``readLine()`` accepts, in bytes without the terminator (default 64 KiB;
    /// at least 1). Bytes already received are kept under the new limit.
    public var maxLineLength: Int {
        get { reader.maxLineLength }
        set {
            let pending = reader.takeAll()
            reader = LineReader(maxLineLength: max(1, newValue))
            if let pending { reader.append(pending) }
        }
    }

    /// Bytes received but not yet read: when it is 0, the next ``read()`` or ``readLine()``
    /// waits (unless the stream has ended), and ``whenReadable(_:)`` would not call at once.
    public var bufferedReadCount: Int { reader.bufferedByteCount }

    /// Bytes written but not yet accepted by the kernel.
    public var bufferedWriteCount: Int {
        (queue?.byteCount ?? 0) + (isClosed ? 0 : kernelBacklog)
    }

    /// What the stream is connected to, for messages.
    public var description: String { endpointDescription }

    /// This end's socket address; `nil` but for sockets (``TCPStream`` overrides it).
    public var localAddress: SocketAddress? { nil }

    /// The peer's socket address; `nil` but for sockets (``TCPStream`` overrides it).
    public var peerAddress: SocketAddress? { nil }

    /// Describes the stream in errors and shutdown reports; subclasses add addresses.
    var endpointDescription: String { "stream" }

    var handleDescription: String { endpointDescription }

    func closeHandle() { close() }

    // MARK: Reading

    /// Reads the next line, without its LF or CRLF terminator, decoded as UTF-8 (invalid bytes
    /// become U+FFFD); `nil` at end of stream. A final line without newline is returned too.
    ///
    /// Throws ``LineTooLongError`` for a line over ``maxLineLength`` (the line is skipped and
    /// the stream stays usable), `UVError` if the connection failed, and `CancellationError` if
    /// the task is cancelled while waiting.
    public func readLine() async throws -> String? {
        guard let line = try await readLineBytes() else { return nil }
        return LineReader.trimmingTerminator(line).string
    }

    /// Reads the next line as bytes, terminator included, exactly as received; `nil` at end of
    /// stream. Same errors as ``readLine()``.
    public func readLineBytes() async throws -> Bytes? {
        loop.assertOnLoop("readLine")
        while true {
            if let line = try reader.nextLine() { return line }
            if isAtEnd { return reader.finish() }
            try await waitForInput()
        }
    }

    /// Reads whatever bytes are available, waiting for at least one; `nil` at end of stream.
    public nonisolated(nonsending) func read() async throws -> Bytes? {
        loop.assertOnLoop("read")
        while true {
            if let bytes = reader.takeAll() { return bytes }
            if isAtEnd { return nil }
            try await waitForInput()
        }
    }

    /// The bytes received and not yet read, without waiting; `nil` if there are none (also at
    /// the end of the stream: ``read()`` tells the end from a wait). A stream layered on this
    /// one (TLS) that answers ``whenReadable(_:)`` itself reads its input with it.
    public func readBuffered() -> Bytes? {
        loop.assertOnLoop("readBuffered")
        return reader.takeAll()
    }

    /// Suspends until more input, the end of the stream, or an error.
    ///
    /// Kept small and non-generic: its frame, and those of its callers, stay in every idle
    /// connection's task for as long as the connection is idle.
    private nonisolated(nonsending) func waitForInput() async throws {
        if readFailure != 0 || isClosed { throw readError() }
        try startReading()
        // The handler is registered directly rather than through `withTaskCancellationHandler`,
        // whose frame and operation closure would stay in every idle connection's task (they
        // overflow its first task-allocator slab into a second, 1 KiB per connection).
        let this = UnsafeTransfer(self)
        let onCancel = CancellationHandler {
            // Safe: the stream is touched only after the hop to its loop's thread.
            this.value.loop.onLoopThread { this.value.readWaiter.take()?.resume(throwing: CancellationError()) }
        }
        // Runs the handler at once if the task is already cancelled; then the check below throws.
        let record = addCancellationHandler(onCancel.run)
        defer {
            removeCancellationHandler(record)
            // The record points at the closure's context without retaining it.
            extendLifetime(onCancel)
        }
        try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Void, any Error>) in
            if Task.isCancelled {
                continuation.resume(throwing: CancellationError())
            } else {
                readWaiter = continuation
            }
        }
        if readFailure != 0 { throw readError() }
    }

    /// Calls `handler` once, on the loop, when ``read()`` would not wait: bytes arrived, the
    /// stream ended or failed, or it was closed. If that already holds, calls it at once.
    /// Returns `true` (the ``ByteStream`` default, for streams that cannot, returns `false`).
    ///
    /// It waits without a task: a server can end a connection's task between requests and
    /// spawn a new one when the next arrives, so an idle connection holds no task (the task
    /// and its allocator slab are over 1 KB). Reading goes on meanwhile, as for a waiting
    /// task. One handler at a time; a second call replaces the first.
    @discardableResult
    public func whenReadable(_ handler: @escaping () -> Void) -> Bool {
        loop.assertOnLoop("whenReadable")
        if reader.bufferedByteCount > 0 || isAtEnd || readFailure != 0 || isClosed {
            handler()
            return true
        }
        do {
            try startReading()
        } catch {
            readFailure = (error as? UVError)?.code ?? UVError.Code.closed
            handler()
            return true
        }
        if readHandlerSlot == .max {
            readHandlerSlot = loop.readHandlers.insert(ReadHandler(run: handler))
        } else {
            loop.readHandlers.replace(at: readHandlerSlot, with: ReadHandler(run: handler))
        }
        return true
    }

    /// Calls the handler from ``whenReadable(_:)``, if one waits.
    private func runReadHandler() {
        guard readHandlerSlot != .max else { return }
        let slot = readHandlerSlot
        readHandlerSlot = .max
        loop.readHandlers.remove(at: slot)?.run()
    }

    private func readError() -> UVError {
        if readFailure != 0 { return UVError(code: readFailure, operation: "read from", target: endpointDescription) }
        return closedError("read from")
    }

    private func startReading() throws {
        guard !isReading && !isAtEnd else { return }
        if isEdgeRegistered || uv_handle_get_type(asHandle(stream)) == UV_TCP, let edge = loop.edgeReader,
            let descriptor = socketDescriptor
        {
            if isEdgeRegistered {
                edge.rearm(self, descriptor: descriptor)
                isReading = true
                return
            }
            if edge.add(self, descriptor: descriptor) {
                isEdgeRegistered = true
                isReading = true
                return
            }
        }
        let status = uv_read_start(
            stream,
            { handle, _, buffer in
                let readBuffer = withOwner(of: handle!, as: Stream.self) { $0.loop.readBuffer }
                buffer!.pointee = uv_buf_init(
                    readBuffer.baseAddress!.assumingMemoryBound(to: CChar.self), UInt32(readBuffer.count))
            },
            { handle, count, _ in
                withOwner(of: handle!, as: Stream.self) { $0.received(count) }
            })
        if status < 0 { throw UVError(code: status, operation: "read from", target: endpointDescription) }
        isReading = true
    }

    private func stopReading() {
        guard isReading else { return }
        // An edge-registered socket stays in the set; its events are ignored while paused.
        if !isEdgeRegistered { uv_read_stop(stream) }
        isReading = false
    }

    /// The socket's descriptor, if libuv gives one.
    private var socketDescriptor: Int32? {
        var descriptor = uv_os_fd_t()
        return uv_fileno(asHandle(stream), &descriptor) == 0 ? descriptor : nil
    }

    /// The socket is ready in the loop's ``EdgeReader`` set: reads until it would block, as
    /// libuv's read callback would (``received(_:)``), or until reading stops. `toEnd`: the
    /// peer's end or an error came with the edge, so a short read does not mean the rest
    /// can wait for another edge: reads on to the end or the error.
    final func readEdge(toEnd: Bool) {
        guard isEdgeRegistered, let descriptor = socketDescriptor else { return }
        let buffer = loop.readBuffer
        while isReading && !isClosed {
            let count = recv(descriptor, buffer.baseAddress, buffer.count, 0)
            if count > 0 {
                received(count)
                // Short: the socket is empty now, and what comes later raises a new edge.
                if count < buffer.count && !toEnd { return }
            } else if count == 0 {
                received(Int(UV_EOF.rawValue))
                return
            } else {
                let code = errno
                if code == EINTR { continue }
                if code != EAGAIN && code != EWOULDBLOCK { received(-Int(code)) }
                return
            }
        }
    }

    /// The read callback: keeps what arrived (copied out of the loop's shared buffer).
    private func received(_ count: Int) {
        if count > 0 {
            reader.append(Bytes(UnsafeRawBufferPointer(start: loop.readBuffer.baseAddress, count: count)))
            // Stop reading while a consumer lags, so one stream's input cannot grow without bound.
            if reader.bufferedByteCount > max(reader.maxLineLength, 64 * 1024) * 2 { stopReading() }
        } else if count == Int(UV_EOF.rawValue) {
            isAtEnd = true
            isReading = false
        } else if count < 0 {
            readFailure = Int32(count)
            isAtEnd = true
            stopReading()
        } else {
            return
        }
        readWaiter.take()?.resume()
        runReadHandler()
    }

    // MARK: Writing

    /// Queues `bytes` to be written; never waits. The bytes are shared, not copied.
    ///
    /// Throws `UVError` if the stream is closed (``UVError/isClosed``) or an earlier write
    /// failed (``UVError/isConnectionReset`` for `EPIPE` or `ECONNRESET` after the peer went away).
    public func write(_ bytes: Bytes) throws {
        loop.assertOnLoop("write")
        if isClosed { throw closedError("write to") }
        if writeFailure != 0 { throw UVError(code: writeFailure, operation: "write to", target: endpointDescription) }
        enqueue(bytes)
    }

    /// True while writes are accepted: open, and no earlier write failed.
    final var isWritable: Bool { !isClosed && writeFailure == 0 }

    /// Queues `bytes` on an open stream without the checks of `write` (the caller made them).
    final func enqueue(_ bytes: Bytes) {
        guard bytes.count > 0 else { return }
        loop.holdUntilFlushed(bytes.storage)
        enqueue(borrowing: bytes)
    }

    /// Queues `bytes`, whose storage the loop holds until this iteration's flush
    /// (``Loop/holdUntilFlushed(_:)``); `bytes` is not empty.
    final func enqueue(borrowing bytes: Bytes) {
        var queue = self.queue ?? newQueue()
        if queue.isFull { queue = grownQueue(queue) }
        queue.append(bytes)
    }

    /// A queue from the loop's pool for a stream that had none, scheduled for the next flush.
    @inline(never)
    private func newQueue() -> WriteQueue {
        let queue = loop.writeQueues.take()
        self.queue = queue
        if !isScheduled {
            isScheduled = true
            loop.scheduleFlush(self)
        }
        return queue
    }

    @inline(never)
    private func grownQueue(_ queue: WriteQueue) -> WriteQueue {
        let grown = queue.grown()
        self.queue = grown
        return grown
    }

    /// Bytes handed to libuv but not yet taken by the kernel (the handle is open).
    final var kernelBacklog: Int { stream.pointee.write_queue_size }

    /// Queues the UTF-8 bytes of `string`.
    public func write(_ string: String) throws {
        try write(Bytes(string))
    }

    /// Hands the bytes queued so far to the kernel now, not at the end of the loop's iteration
    /// with every other stream's; for a protocol that knows its message is whole (an HTTP
    /// response written in a readable callback). Loop thread only.
    package final func sendQueued() {
        guard isScheduled else { return }
        flushQueued()
    }

    /// Hands the queued bytes to the kernel; called by the loop once per iteration.
    ///
    /// When libuv holds nothing unwritten for the stream, the bytes go straight to the socket
    /// with `uv_try_write` (one `writev`, no request, no callback); whatever the kernel did not
    /// take, or everything when libuv's queue is not empty, goes to libuv as one `uv_write`.
    /// Besides the request, this saves an `epoll_ctl` per response: a completed `uv_write` makes
    /// libuv stop watching for writability, which re-arms the socket's registration.
    func flushQueued() {
        isScheduled = false
        guard let queue, !isClosed else { return }
        self.queue = nil
        var written = 0
        if kernelBacklog == 0 {
            let status = uv_try_write(stream, queue.buffers, UInt32(queue.count))
            if status >= 0 && Int(status) == queue.byteCount || status < 0 && status != UV_EAGAIN.rawValue {
                loop.writeQueues.give(queue)
                // Written (or failed): wake the tasks waiting in `drain` or `flush`.
                if isWaitingForWrites || status < 0 { wrote(status: min(status, 0)) }
                return
            }
            written = max(0, Int(status))
        }
        submit(queue, skipping: written)
    }

    /// Hands `queue`, but for its first `written` bytes, to libuv as one `uv_write`; the request
    /// holds a reference to each unwritten chunk's storage until its callback.
    private func submit(_ queue: WriteQueue, skipping written: Int) {
        queue.skip(written)
        queue.retainUnwritten()
        let request = loop.writeRequests.take()
        request.pointee.queue = queue
        let status = uv_write(
            &request.pointee.request, stream, queue.buffers + queue.start, UInt32(queue.count - queue.start),
            { request, status in
                // The request is the first field of a pooled WriteRequest.
                let slot = UnsafeMutableRawPointer(request!).assumingMemoryBound(to: WriteRequest.self)
                let stream = owner(of: request!.pointee.handle, as: Stream.self)
                stream.loop.finish(slot)
                stream.wrote(status: status)
            })
        if status < 0 {
            loop.finish(request)
            wrote(status: status)
        }
    }

    /// A write finished (or failed); wakes the tasks waiting in `drain` or `flush` whose wait is over.
    private func wrote(status: Int32) {
        if status < 0 && status != UVError.Code.cancelled && writeFailure == 0 { writeFailure = status }
        guard isWaitingForWrites else { return }
        if writeFailure != 0 {
            resumeWriteWaiters(failing: UVError(code: writeFailure, operation: "write to", target: endpointDescription))
        } else if isClosed {
            resumeWriteWaiters(failing: closedError("write to"))
        } else {
            resumeWriteWaiters(failing: nil)
        }
    }

    /// Resumes the tasks waiting in `drain` or `flush`: all of them with `error`, or without an
    /// error those whose mark the backlog has reached (zero for `flush`, the low water mark
    /// for `drain`).
    private func resumeWriteWaiters(failing error: UVError?) {
        guard isWaitingForWrites, var waiters = loop.writeWaiters.removeValue(forKey: ObjectIdentifier(self)) else { return }
        let backlog = error == nil ? bufferedWriteCount : 0
        let low = lowWaterMark
        var done: [WriteWaiter] = []
        waiters.removeAll { waiter in
            guard error != nil || backlog <= (waiter.toEmpty ? 0 : low) else { return false }
            done.append(waiter)
            return true
        }
        if waiters.isEmpty {
            isWaitingForWrites = false
        } else {
            loop.writeWaiters[ObjectIdentifier(self)] = waiters
        }
        for waiter in done {
            if let error { waiter.continuation.resume(throwing: error) } else { waiter.continuation.resume() }
        }
    }

    /// Removes the task waiting in `drain` or `flush` with `id`, if it still waits.
    private func takeWriteWaiter(id: Int) -> UnsafeContinuation<Void, any Error>? {
        let key = ObjectIdentifier(self)
        guard isWaitingForWrites, let index = loop.writeWaiters[key]?.firstIndex(where: { $0.id == id }) else { return nil }
        // Force-unwrap: the list was just found to hold the waiter.
        let waiter = loop.writeWaiters[key]!.remove(at: index)
        if loop.writeWaiters[key]!.isEmpty {
            loop.writeWaiters[key] = nil
            isWaitingForWrites = false
        }
        return waiter.continuation
    }

    /// Waits while more than ``highWaterMark`` bytes are queued, until at most ``lowWaterMark``
    /// remain; returns at once otherwise. Use it after writes to follow a slow reader.
    ///
    /// ```swift
    /// try upstream.write(chunk)
    /// try await upstream.drain()
    /// ```
    public nonisolated(nonsending) func drain() async throws {
        if isClosed { throw closedError("drain") }
        guard bufferedWriteCount > highWaterMark else { return }
        try await waitForWrites(toEmpty: false, operation: "drain")
    }

    /// Waits until every queued byte has been handed to the kernel.
    ///
    /// Several tasks may wait in `drain()` and `flush()` on one stream at once; each resumes
    /// when its own condition holds, and cancelling one leaves the others waiting.
    public func flush() async throws {
        try await waitForWrites(toEmpty: true, operation: "flush")
    }

    private nonisolated(nonsending) func waitForWrites(toEmpty: Bool, operation: String) async throws {
        loop.assertOnLoop(operation)
        if writeFailure != 0 { throw UVError(code: writeFailure, operation: "write to", target: endpointDescription) }
        if isClosed { throw closedError(operation) }
        if bufferedWriteCount <= (toEmpty ? 0 : lowWaterMark) { return }
        let id = loop.nextWriteWaiterID
        loop.nextWriteWaiterID &+= 1
        let this = UnsafeTransfer(self)
        try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Void, any Error>) in
                if Task.isCancelled {
                    continuation.resume(throwing: CancellationError())
                } else {
                    isWaitingForWrites = true
                    loop.writeWaiters[ObjectIdentifier(self), default: []].append(
                        WriteWaiter(id: id, continuation: continuation, toEmpty: toEmpty))
                }
            }
        } onCancel: {
            // Safe: the stream is touched only after the hop to its loop's thread.
            this.value.loop.onLoopThread { this.value.takeWriteWaiter(id: id)?.resume(throwing: CancellationError()) }
        }
    }

    // MARK: Closing

    /// Closes the writing side once queued bytes are written (TCP FIN); reading goes on.
    public func closeWrite() async throws {
        loop.assertOnLoop("closeWrite")
        if isClosed { throw closedError("shut down") }
        flushQueued()
        let request = Request<uv_shutdown_t, Void>(loop: loop, operation: "shut down", target: endpointDescription)
        try await request.perform(start: { request in
            uv_shutdown(request, stream) { request, status in
                // ECANCELED: the stream was closed meanwhile, which shut it down too.
                Request<uv_shutdown_t, Void>.complete(request, status: status == UVError.Code.cancelled ? 0 : status, value: ())
            }
        })
    }

    /// Closes the stream now. Bytes not yet written are dropped (call ``flush()`` first to keep
    /// them); a task waiting to read or write gets a `UVError` whose ``UVError/isClosed`` is true,
    /// as does every later call. Calling it twice is harmless.
    public func close() {
        loop.assertOnLoop("close")
        guard !isClosed else { return }
        isClosed = true
        // The queued chunks borrow their storage from the loop (see `enqueue(borrowing:)`).
        if let queue = queue.take() { loop.writeQueues.give(queue) }
        readWaiter.take()?.resume(throwing: closedError("read from"))
        resumeWriteWaiters(failing: closedError("write to"))
        if isEdgeRegistered {
            isEdgeRegistered = false
            isReading = false
            if let descriptor = socketDescriptor { loop.edgeReader?.remove(descriptor: descriptor) }
        }
        uvClose(stream)
        runReadHandler()
    }
}

extension Stream {
    /// What every operation on a closed stream throws: ``UVError/Code/closed``.
    final func closedError(_ operation: String) -> UVError {
        UVError(code: UVError.Code.closed, operation: operation, target: "closed \(endpointDescription)")
    }
}

/// A task waiting in ``Stream/drain()`` or ``Stream/flush()``, and what it waits for: an empty
/// queue (`flush`) or the low water mark (`drain`).
struct WriteWaiter {
    /// Tells this wait from the stream's others, for its cancellation.
    let id: Int
    let continuation: UnsafeContinuation<Void, any Error>
    let toEmpty: Bool
}

/// A value handed to a `@Sendable` closure that touches it only after hopping to the thread
/// that owns it; each use states why that holds.
struct UnsafeTransfer<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// A handler from ``Stream/whenReadable(_:)``, wrapped so that the dictionary holding it
/// stores the closure as it is: a bare closure in a generic container gets a thunk, one
/// allocation per call of `whenReadable`.
struct ReadHandler {
    let run: () -> Void
}

/// A cancellation handler, wrapped in a non-generic struct so that `extendLifetime` can keep
/// it alive without first boxing the closure in a reabstraction thunk.
struct CancellationHandler {
    let run: @Sendable () -> Void
    init(_ run: @escaping @Sendable () -> Void) { self.run = run }
}

/// The runtime's registration of a task cancellation handler, as `withTaskCancellationHandler`
/// uses it: `handler` runs (on any thread) when the current task is cancelled, or at once if it
/// already is. The returned record lives in the task's allocator until it is removed, and it
/// refers to `handler`'s context without retaining it: keep `handler` alive until then.
@_silgen_name("swift_task_addCancellationHandler")
func addCancellationHandler(_ handler: @escaping @Sendable () -> Void) -> UnsafeRawPointer

/// Removes a record made by ``addCancellationHandler(_:)``, on the task that made it.
@_silgen_name("swift_task_removeCancellationHandler")
func removeCancellationHandler(_ record: UnsafeRawPointer)
