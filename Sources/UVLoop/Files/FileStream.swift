import CLibUV

#if canImport(Glibc)
    import Glibc
#endif

/// A ``ByteStream`` over a descriptor that has no readiness to wait for — a regular file,
/// `/dev/null`, a character device — read and written with libuv's file requests on its thread
/// pool, so the loop never blocks on the disk.
///
/// ``Stream/standardInput(on:)`` and ``Stream/standardOutput(on:)`` return one when standard
/// input or output is redirected from or to a file (`prog < file`, `prog > log`, `nohup`, a
/// systemd unit with `StandardOutput=file:`) or `/dev/null`; ``ConsoleWriter`` writes through one.
///
/// Reads and writes go at the descriptor's current position, which it shares with every process
/// holding the same open file (a shell's `> log 2>&1`), so output from several writers lands in
/// order, one after another. One read and one write request run at a time: bytes are written in
/// the order they were queued. Reads are not tied to the task that waits for them, so a read
/// cancelled (or timed out) while its request runs loses nothing: the next read returns the
/// bytes. A descriptor whose reads block (a serial line) holds one of libuv's pool threads while a
/// read waits, and the loop waits for that read when it shuts down: use ``PipeStream`` for such
/// a device if you can.
///
/// ```swift
/// let log = try FileStream(fileDescriptor: 1, on: loop)
/// try log.write("started\n")
/// try await log.flush()
/// ```
public final class FileStream: ByteStream {
    /// The loop the stream belongs to.
    public let loop: Loop
    /// The descriptor read and written.
    public let fileDescriptor: Int32
    private let label: String
    /// Whether ``close()`` closes the descriptor (never 0, 1 or 2).
    private let closesDescriptor: Bool

    private var reader: LineReader
    private var isAtEnd = false
    private var readFailure: (any Error)?
    /// True while a read request runs; its result goes to `reader` whoever is waiting.
    private var isFilling = false
    private let readWaiters: WaitQueue<Void>

    /// Bytes queued and not yet handed to the kernel, in order.
    private var queue: [Bytes] = []
    private var queuedByteCount = 0
    /// Bytes of the batch being written now.
    private var writingByteCount = 0
    private var isWriting = false
    private var writeFailure: UVError?
    private var isWriteClosed = false
    /// Tasks in ``drain()``, ``flush()`` or ``closeWrite()``; woken after each written batch.
    private let writeWaiters: WaitQueue<Void>

    /// ``drain()`` waits while more than this many bytes are queued (default 1 MiB).
    public var highWaterMark = 1 << 20
    /// How many bytes one read request asks for (default 64 KiB).
    public var readChunkSize = 64 * 1024

    /// True once ``close()`` was called.
    public private(set) var isClosed = false

    /// Wraps `fileDescriptor`, an open descriptor of this process.
    ///
    /// - Parameters:
    ///   - label: what the stream is called in errors (default `fd N`).
    ///   - closesDescriptor: whether ``close()`` closes the descriptor, once no request uses it;
    ///     0, 1 and 2 are never closed.
    /// - Throws: `UVError` `EBADF` when the descriptor is not open.
    public init(fileDescriptor: Int32, label: String? = nil, closesDescriptor: Bool = true, on loop: Loop) throws {
        loop.assertOnLoop("open a file stream")
        let label = label ?? "fd \(fileDescriptor)"
        if fcntl(fileDescriptor, F_GETFD) < 0 {
            throw UVError(code: UVError.Code.badFileDescriptor, operation: "open a stream on", target: label)
        }
        self.loop = loop
        self.fileDescriptor = fileDescriptor
        self.label = label
        self.closesDescriptor = closesDescriptor && fileDescriptor > 2
        reader = LineReader()
        readWaiters = WaitQueue(loop: loop)
        writeWaiters = WaitQueue(loop: loop)
    }

    /// `standard output (a file)`, or the label it was made with.
    public var description: String { label }

    /// The longest line ``readLineBytes()`` accepts, in bytes without the terminator (default 64 KiB).
    public var maxLineLength: Int {
        get { reader.maxLineLength }
        set {
            precondition(reader.bufferedByteCount == 0, "set maxLineLength before reading")
            reader = LineReader(maxLineLength: newValue)
        }
    }

    // MARK: Reading

    /// Reads whatever bytes the next read request returns (up to ``readChunkSize``); `nil` at
    /// the end of the file. Throws `UVError` naming the stream, or `CancellationError`.
    public func read() async throws -> Bytes? {
        loop.assertOnLoop("read")
        while true {
            if let bytes = reader.takeAll() { return bytes }
            if isAtEnd { return try endOfInput() }
            try await fill()
        }
    }

    /// Reads the next line, terminator included, exactly as read; `nil` at the end of the file.
    /// A line over ``maxLineLength`` throws ``LineTooLongError`` and is skipped.
    public func readLineBytes() async throws -> Bytes? {
        loop.assertOnLoop("readLine")
        while true {
            if let line = try reader.nextLine() { return line }
            if isAtEnd {
                if let line = reader.finish() { return line }
                return try endOfInput()
            }
            try await fill()
        }
    }

    /// At the end: `nil`, or the error that ended reading.
    private func endOfInput() throws -> Bytes? {
        if let readFailure { throw readFailure }
        return nil
    }

    /// Waits for the read request in flight, starting one if none is.
    private func fill() async throws {
        try checkOpen("read")
        if !isFilling {
            isFilling = true
            // Safe: the task runs on this loop's executor only, like every user of the stream.
            let this = UncheckedBox(self)
            Task(executorPreference: loop.executor) { await this.value.readChunk() }
        }
        try await readWaiters.wait()
    }

    /// Runs one read request, not cancelled with any waiter, and hands its bytes to `reader`.
    private func readChunk() async {
        let count = max(readChunkSize, 1)
        let storage = ByteStorage.make(capacity: count)
        let uv = loop.uv
        let descriptor = fileDescriptor
        do {
            let read = try await loop.fileRequest(
                "read", label, buffer: storage,
                extract: { Int(uv_fs_get_result($0)) },
                start: { request, callback in
                    storage.withBase { base in
                        var buffer = uv_buf_init(base.assumingMemoryBound(to: CChar.self), UInt32(count))
                        return uv_fs_read(uv, request, descriptor, &buffer, 1, -1, callback)
                    }
                })
            if read == 0 {
                isAtEnd = true
            } else {
                reader.append(Bytes(storage: storage, offset: 0, count: read))
            }
        } catch {
            readFailure = error
            isAtEnd = true
        }
        isFilling = false
        readWaiters.resumeAll(with: .success(()))
        closeDescriptorIfIdle()
    }

    // MARK: Writing

    /// Queues `bytes` to be written after what is already queued; never waits.
    ///
    /// Throws a `UVError` whose ``UVError/isClosed`` is true (`ECANCELED`, like every closed
    /// stream) after ``close()`` or ``closeWrite()``, and the error of an earlier write that
    /// failed (`ENOSPC`, `EPIPE`).
    public func write(_ bytes: Bytes) throws {
        loop.assertOnLoop("write")
        try checkOpen("write")
        if isWriteClosed { throw UVError(code: UVError.Code.cancelled, operation: "write", target: "closed \(label)") }
        if let writeFailure { throw writeFailure }
        guard bytes.count > 0 else { return }
        queue.append(bytes)
        queuedByteCount += bytes.count
        if !isWriting {
            isWriting = true
            // Safe: the task runs on this loop's executor only, like every user of the stream.
            let this = UncheckedBox(self)
            Task(executorPreference: loop.executor) { await this.value.writeQueued() }
        }
    }

    /// Bytes written but not yet handed to the kernel.
    public var bufferedWriteCount: Int { queuedByteCount + writingByteCount }

    /// Waits while more than ``highWaterMark`` bytes are queued.
    public func drain() async throws {
        loop.assertOnLoop("drain")
        while bufferedWriteCount > highWaterMark {
            try checkWritable("drain")
            try await writeWaiters.wait()
        }
        try checkWritable("drain")
    }

    /// Waits until every queued byte has been handed to the kernel. Throws the error of a write
    /// that failed, or `CancellationError` (the bytes are written anyway).
    public func flush() async throws {
        loop.assertOnLoop("flush")
        while isWriting {
            try checkWritable("flush")
            try await writeWaiters.wait()
        }
        try checkWritable("flush")
    }

    /// Writes what is queued, then refuses further writes; reading goes on. The descriptor stays
    /// open until ``close()``.
    public func closeWrite() async throws {
        try await flush()
        isWriteClosed = true
    }

    /// Closes the stream now: queued bytes not yet handed to a request are dropped, and waiting
    /// tasks get a closed error. A descriptor it owns is closed once no request uses it.
    /// Calling it twice is harmless.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        queue.removeAll()
        queuedByteCount = 0
        let closed = UVError(code: UVError.Code.cancelled, operation: "wait on", target: "closed \(label)")
        readWaiters.resumeAll(with: .failure(closed))
        writeWaiters.resumeAll(with: .failure(closed))
        closeDescriptorIfIdle()
    }

    /// Writes the queue in batches, one request at a time, until it is empty.
    private func writeQueued() async {
        while !queue.isEmpty, !isClosed, writeFailure == nil {
            let batch = queue.count == 1 ? queue[0] : Bytes(concatenating: queue)
            queue.removeAll(keepingCapacity: true)
            queuedByteCount = 0
            writingByteCount = batch.count
            do {
                try await writeAll(batch)
            } catch let error as UVError {
                writeFailure = error
            } catch {
                writeFailure = UVError(code: UVError.Code.cancelled, operation: "write to", target: label)
            }
            writingByteCount = 0
            writeWaiters.resumeAll(with: .success(()))
        }
        if writeFailure != nil {
            queue.removeAll()
            queuedByteCount = 0
        }
        isWriting = false
        writeWaiters.resumeAll(with: .success(()))
        closeDescriptorIfIdle()
    }

    /// Writes all of `bytes` at the current position, request after request if the kernel
    /// takes part of it.
    private func writeAll(_ bytes: Bytes) async throws {
        let uv = loop.uv
        let descriptor = fileDescriptor
        var done = 0
        while done < bytes.count {
            let rest = bytes.slice(done..<bytes.count)
            do {
                done += try await loop.fileRequest(
                    "write to", label, buffer: rest.storage,
                    extract: { Int(uv_fs_get_result($0)) },
                    start: { request, callback in
                        rest.withUnsafeBytes { raw in
                            var buffer = uv_buf_init(
                                UnsafeMutableRawPointer(mutating: raw.baseAddress)?.assumingMemoryBound(to: CChar.self), UInt32(raw.count))
                            return uv_fs_write(uv, request, descriptor, &buffer, 1, -1, callback)
                        }
                    })
            } catch let error as UVError where error.code == Int32(UV_EAGAIN.rawValue) {
                // Someone made the descriptor non-blocking (a PipeStream on the same pipe): wait on
                // a pool thread until it is writable, then write the rest.
                _ = try await loop.runBlocking {
                    var waitFor = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
                    return poll(&waitFor, 1, -1)
                }
            }
        }
    }

    private func checkOpen(_ operation: String) throws {
        if isClosed { throw UVError(code: UVError.Code.cancelled, operation: operation, target: "closed \(label)") }
    }

    private func checkWritable(_ operation: String) throws {
        try checkOpen(operation)
        if let writeFailure { throw writeFailure }
    }

    /// Closes an owned descriptor once the stream is closed and no request uses it.
    private func closeDescriptorIfIdle() {
        guard isClosed, closesDescriptor, !isFilling, !isWriting, !isDescriptorClosed else { return }
        isDescriptorClosed = true
        var request = uv_fs_t()
        // Synchronous (no callback): close(2) of a file does not wait for the disk.
        uv_fs_close(loop.uv, &request, fileDescriptor, nil)
        uv_fs_req_cleanup(&request)
    }

    private var isDescriptorClosed = false
}

extension Bytes {
    /// The bytes of `chunks`, one after another, in one new buffer.
    init(concatenating chunks: [Bytes]) {
        var joined: [UInt8] = []
        joined.reserveCapacity(chunks.reduce(0) { $0 + $1.count })
        for chunk in chunks { chunk.withUnsafeBytes { joined.append(contentsOf: $0) } }
        self.init(joined)
    }
}
