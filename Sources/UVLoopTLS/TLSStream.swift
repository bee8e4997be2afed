import UVLoop
import UVLoopCodecs

/// A TLS connection over any ``ByteStream`` (TCP, a Unix-domain socket), offering the plaintext
/// through the same contract: `readLine`, `read`, `write`, `drain`, `flush`, `closeWrite`.
///
/// The socket stays in libuv: the wrapped stream carries the ciphertext, and a ``TLSEngine``
/// turns it into plaintext and back on the loop's thread. Protocol code written against
/// `some ByteStream` runs over it unchanged.
///
/// ```swift
/// // Server: the handshake runs in the connection's own task, so accept never waits for it.
/// let context = try TLSContext(.server(certificateChain: "cert.pem", privateKey: "key.pem"))
/// for try await connection in listener.connections {
///     loop.spawn {
///         let stream = try await TLSStream.accept(over: connection, context: context)
///         while let line = try await stream.readLine() { try stream.write(line + "\n") }
///         stream.close()
///     }
/// }
///
/// // Client:
/// let stream = try await TLSStream.connect(host: "localhost", port: 3443, on: loop, configuration: .client())
/// ```
///
/// Like every stream it belongs to its loop: use it from that loop's tasks. Errors: OpenSSL's
/// are ``TLSError``s; the wrapped stream's `UVError`s pass through; a closed stream throws a
/// `UVError` whose `isClosed` is true; each wait throws `CancellationError` when its task is
/// cancelled. A peer that closes without close_notify ends the stream like one that sent it
/// (see ``receivedCloseNotify``).
public final class TLSStream: ByteStream {
    /// The loop the stream belongs to.
    public let loop: Loop
    /// The stream carrying the ciphertext. Leave it alone while the TLS stream is open.
    public let underlying: any ByteStream
    /// `underlying`, when it is a libuv stream (TCP, pipe): read and checked without calls
    /// through the existential.
    private let socket: Stream?
    /// The TLS state machine.
    public let engine: TLSEngine
    // @exclusivity(unchecked) below: the stream is used on its loop's thread only, and no
    // access to these spans a call that could reach them again (the runtime's dynamic checks
    // cost 13 calls per echoed message, callgrind).
    @exclusivity(unchecked) private var reader: LineReader
    @exclusivity(unchecked) private var isAtEnd = false
    @exclusivity(unchecked) private var readFailure: (any Error)?
    @exclusivity(unchecked) private var writeFailure: (any Error)?
    /// True once close_notify was queued (by ``closeWrite()`` or ``close()``).
    @exclusivity(unchecked) private var isWriteClosed = false
    /// True once the handshake's watchdog closed the connection.
    private var isHandshakeTimedOut = false
    /// Plaintext written and not yet encrypted: its byte count, and the indexes of its first
    /// and last pieces in the batcher's list (-1: none; see ``TLSWriteBatcher``).
    @exclusivity(unchecked) private(set) var pendingCount = 0
    @exclusivity(unchecked) var firstPiece: Int32 = -1
    @exclusivity(unchecked) var lastPiece: Int32 = -1
    private let batcher: TLSWriteBatcher
    /// True once ``close()`` was called.
    @exclusivity(unchecked) public private(set) var isClosed = false
    /// True if the peer ended with close_notify; false while open, or if it just closed the
    /// connection, which may have cut the data short (length-delimited protocols detect that).
    public private(set) var receivedCloseNotify = false

    /// Plaintext is encrypted at most this many bytes at a time, so the engine's output buffer
    /// stays small while a large write turns into records.
    private static let writeSlice = 64 * 1024

    /// Runs the handshake over `stream` as the context's role (client or server).
    ///
    /// - Parameters:
    ///   - stream: a connected stream; the TLS stream owns it from now on, and closes it if the
    ///     handshake fails.
    ///   - context: the settings, certificates and keys; its ``TLSConfiguration/handshakeTimeout``
    ///     bounds the handshake.
    ///   - serverName: client: the name sent in SNI and checked against the certificate.
    /// - Throws: ``TLSError`` when the handshake fails or times out, the stream's `UVError` when
    ///   the connection fails, `CancellationError` when the task is cancelled.
    public init(wrapping stream: any ByteStream, context: TLSContext, serverName: String? = nil) async throws {
        loop = stream.loop
        underlying = stream
        socket = stream as? Stream
        reader = LineReader(maxLineLength: stream.maxLineLength)
        batcher = context.writeBatcher
        let peer = Self.describePeer(of: stream, serverName: serverName)
        do {
            engine = try TLSEngine(context: context, serverName: serverName, peer: peer)
        } catch {
            stream.close()
            throw error
        }
        try await handshake(timeout: context.configuration.handshakeTimeout)
    }

    /// Runs the handshake over `stream` with a context made from `configuration`.
    ///
    /// ```swift
    /// let tcp = try await TCPStream.connect(host: "localhost", port: 3443, on: loop)
    /// let tls = try await TLSStream(wrapping: tcp, configuration: .client(), serverName: "localhost")
    /// ```
    public convenience init(wrapping stream: any ByteStream, configuration: TLSConfiguration, serverName: String? = nil) async throws {
        let context: TLSContext
        do {
            context = try TLSContext(configuration)
        } catch {
            stream.close()
            throw error
        }
        try await self.init(wrapping: stream, context: context, serverName: serverName)
    }

    /// Server side: runs the handshake over an accepted connection, within the context's
    /// handshake timeout. Call it in the connection's own task.
    public static func accept(over connection: any ByteStream, context: TLSContext) async throws -> TLSStream {
        try await TLSStream(wrapping: connection, context: context)
    }

    /// Client side: connects over TCP and runs the handshake, sending `host` as the server name
    /// and verifying the certificate against it (unless the configuration is insecure).
    ///
    /// Failures read like `TLS handshake with localhost:3443 failed: certificate verify failed
    /// (self-signed certificate in certificate chain)`.
    public static func connect(
        host: String, port: Int, on loop: Loop, configuration: TLSConfiguration = .client(), serverName: String? = nil
    ) async throws -> TLSStream {
        let context = try TLSContext(configuration)
        return try await connect(host: host, port: port, on: loop, context: context, serverName: serverName)
    }

    /// Client side, with a context made once for many connections.
    public static func connect(
        host: String, port: Int, on loop: Loop, context: TLSContext, serverName: String? = nil
    ) async throws -> TLSStream {
        let connection = try await TCPStream.connect(host: host, port: port, on: loop)
        return try await TLSStream(wrapping: connection, context: context, serverName: serverName ?? host)
    }

    /// "TLS " and the wrapped stream's description.
    public var description: String { "TLS \(underlying.description)" }

    /// The application protocol agreed through ALPN, if any.
    public var negotiatedProtocol: String? { engine.negotiatedProtocol }

    /// The protocol version in use ("TLSv1.3").
    public var protocolVersion: String { engine.protocolVersion }

    /// This end's socket address (the wrapped stream's).
    public var localAddress: SocketAddress? { underlying.localAddress }

    /// The peer's socket address (the wrapped stream's).
    public var peerAddress: SocketAddress? { underlying.peerAddress }

    /// The longest line ``readLineBytes()`` accepts, in bytes without the terminator (by default
    /// the wrapped stream's). Set it before reading.
    public var maxLineLength: Int {
        get { reader.maxLineLength }
        set { reader = LineReader(maxLineLength: newValue) }
    }

    // MARK: Handshake

    /// Runs the handshake in the calling task, with a watchdog task that closes the connection
    /// when the timeout passes. Not `withTimeout`: its task group and two child tasks cost more
    /// per handshake, and the group's frames leave allocator slabs (3 KB) in the connection's
    /// task for as long as the connection lives (measured, docs/DESIGN.md §10).
    private func handshake(timeout: Duration) async throws {
        let watchdog = loop.spawn {
            try await self.loop.sleep(for: timeout)
            self.isHandshakeTimedOut = true
            self.underlying.close()
        }
        do {
            try await driveHandshake()
            watchdog.cancel()
        } catch {
            watchdog.cancel()
            await abandon()
            if isHandshakeTimedOut {
                throw TLSError(
                    kind: .handshakeTimedOut, operation: "TLS handshake", target: engine.peer, reason: "timed out after \(timeout)")
            }
            throw error
        }
    }

    private func driveHandshake() async throws {
        while true {
            let isComplete: Bool
            do {
                isComplete = try engine.handshake()
            } catch {
                try? sendOutput()
                throw error
            }
            try sendOutput()
            if isComplete { return }
            guard let ciphertext = try await underlying.read() else {
                throw TLSError(
                    kind: .closedDuringHandshake, operation: "TLS handshake", target: engine.peer, reason: "connection closed by peer")
            }
            engine.feed(ciphertext)
        }
    }

    /// After a failed handshake: gives an alert a moment to leave, then closes the connection.
    private func abandon() async {
        isClosed = true
        if !underlying.isClosed && underlying.bufferedWriteCount > 0 && !Task.isCancelled {
            _ = try? await loop.withTimeout(.seconds(1)) { try await self.underlying.flush() }
        }
        underlying.close()
    }

    // MARK: Reading

    /// Reads whatever plaintext is available, waiting for at least one byte; `nil` at the end.
    public func read() async throws -> Bytes? {
        assertOnLoop("read")
        while true {
            if let bytes = reader.takeAll() { return bytes }
            if isAtEnd { return nil }
            try await receive()
        }
    }

    /// Reads the next line, terminator included, exactly as received; `nil` at the end. A line
    /// over ``maxLineLength`` throws `LineTooLongError` and is skipped.
    public func readLineBytes() async throws -> Bytes? {
        assertOnLoop("readLine")
        while true {
            if let line = try reader.nextLine() { return line }
            if isAtEnd { return reader.finish() }
            try await receive()
        }
    }

    /// Calls `handler` once, on the loop, when ``read()`` would not wait (plaintext decrypted,
    /// the end, a failure, or the stream closed), without a task waiting: see
    /// ``Stream/whenReadable(_:)``. Ciphertext is decrypted as it arrives, so a partial record
    /// calls nothing. Returns `false` (and calls nothing) when the wrapped stream is not a
    /// libuv stream.
    @discardableResult
    public func whenReadable(_ handler: @escaping () -> Void) -> Bool {
        assertOnLoop("whenReadable")
        guard let socket else { return false }
        if decryptAvailable(from: socket, signalled: false) {
            handler()
            return true
        }
        return socket.whenReadable { [self] in
            if decryptAvailable(from: socket, signalled: true) {
                handler()
            } else {
                whenReadable(handler)
            }
        }
    }

    /// Decrypts what the engine and the socket hold, without waiting; true when ``read()``
    /// would not wait. `signalled`: the socket said it is readable, so if it holds no bytes it
    /// ended or failed, which ``read()`` finds at once.
    private func decryptAvailable(from socket: Stream, signalled: Bool) -> Bool {
        var signalled = signalled
        while true {
            if reader.bufferedByteCount > 0 || isAtEnd || readFailure != nil || isClosed { return true }
            guard let record = try? readRecord() else { return true }
            switch record {
            case .plaintext, .closed:
                return true
            case .needsInput:
                guard let ciphertext = socket.readBuffered() else { return signalled }
                engine.feed(ciphertext)
                signalled = false
            }
        }
    }

    /// One `SSL_read`: plaintext goes to `reader`, a `close_notify` ends the stream, and what
    /// OpenSSL wrote meanwhile (an alert, a key update's answer) is sent; a failure to send shows
    /// on the next write. A failed read is kept in `readFailure` and thrown.
    @inline(__always)
    private func readRecord() throws -> TLSEngine.ReadResult {
        let result: TLSEngine.ReadResult
        do {
            result = try engine.read()
        } catch {
            readFailure = error
            try? sendOutput()
            throw error
        }
        do { try sendOutput() } catch { writeFailure = writeFailure ?? error }
        switch result {
        case .plaintext(let bytes):
            reader.append(bytes)
        case .closed:
            receivedCloseNotify = true
            isAtEnd = true
        case .needsInput:
            break
        }
        return result
    }

    /// Decrypts at least one more record into `reader`, or reaches the end of the stream.
    /// Inlined: a call of its own costs a frame allocation and two executor hops per read
    /// (callgrind, TLS echo).
    @inline(__always)
    private func receive() async throws {
        while true {
            if isClosed { throw closedError("read from") }
            if let readFailure { throw readFailure }
            switch try readRecord() {
            case .plaintext, .closed:
                return
            case .needsInput:
                let ciphertext: Bytes?
                do {
                    // A libuv stream directly: the call through the existential adds a hop.
                    if let socket { ciphertext = try await socket.read() } else { ciphertext = try await underlying.read() }
                } catch {
                    if isClosed { throw closedError("read from") }
                    if !(error is CancellationError) { readFailure = error }
                    throw error
                }
                if isClosed { throw closedError("read from") }
                guard let ciphertext else {
                    isAtEnd = true
                    return
                }
                engine.feed(ciphertext)
            }
        }
    }

    // MARK: Writing

    /// Queues `bytes` to be encrypted and sent; never waits.
    ///
    /// What a loop iteration writes is encrypted together, as one `SSL_write`, after the tasks
    /// ready on the loop have run and before the iteration's writes go to the kernel (so the
    /// lines of several broadcasts share one record); ``drain()``, ``flush()``,
    /// ``closeWrite()`` and ``close()`` encrypt at once, and so does a write that takes the
    /// pending plaintext to 64 KiB or more.
    ///
    /// Throws a `UVError` if the stream is closed (or its writing side, after ``closeWrite()``),
    /// the error of an earlier write or encryption that failed.
    public func write(_ bytes: Bytes) throws {
        assertOnLoop("write")
        if isClosed || isWriteClosed { throw closedError("write to") }
        if let writeFailure { throw writeFailure }
        guard bytes.count > 0 else { return }
        if pendingCount + bytes.count < Self.writeSlice {
            batcher.append(bytes, to: self)
            pendingCount += bytes.count
            return
        }
        try encryptPendingNow()
        try encrypt(bytes)
    }

    /// Encrypts the pending plaintext (the batcher's call); a failure shows on the next call.
    func encryptPending() {
        guard !isClosed, !isWriteClosed else {
            batcher.dropPending(of: self)
            pendingCount = 0
            return
        }
        do { try encryptPendingNow() } catch {}
    }

    /// Encrypts the pending plaintext as one `SSL_write` and queues the records.
    private func encryptPendingNow() throws {
        guard pendingCount > 0 else { return }
        if let writeFailure {
            batcher.dropPending(of: self)
            pendingCount = 0
            throw writeFailure
        }
        do {
            defer { pendingCount = 0 }
            try batcher.takePending(of: self) { plaintext in try engine.write(plaintext) }
            try sendOutput()
        } catch {
            writeFailure = error
            throw error
        }
    }

    /// Encrypts `bytes` at most ``writeSlice`` at a time and queues the records.
    private func encrypt(_ bytes: Bytes) throws {
        if let writeFailure { throw writeFailure }
        var offset = 0
        while offset < bytes.count {
            let end = min(offset + Self.writeSlice, bytes.count)
            do {
                try engine.write(offset == 0 && end == bytes.count ? bytes : bytes.slice(offset..<end))
                try sendOutput()
            } catch {
                writeFailure = error
                throw error
            }
            offset = end
        }
    }

    /// Ciphertext queued on the wrapped stream and not yet taken by the kernel.
    public var bufferedWriteCount: Int { (socket?.bufferedWriteCount ?? underlying.bufferedWriteCount) + pendingCount }

    /// Waits while the wrapped stream's queue is over its high water mark (backpressure).
    public func drain() async throws {
        if isClosed { throw closedError("drain") }
        try encryptPendingNow()
        // A libuv stream under its mark: `Stream.drain` would return at once, but the call
        // through the existential costs executor hops (callgrind, TLS echo).
        if let socket, !socket.isClosed, socket.bufferedWriteCount <= socket.highWaterMark { return }
        try await underlying.drain()
    }

    /// Waits until every queued record has been handed to the kernel.
    public func flush() async throws {
        if isClosed { throw closedError("flush") }
        try encryptPendingNow()
        try await underlying.flush()
    }

    /// Sends close_notify, then closes the wrapped stream's writing side once everything queued
    /// is written; reading goes on until the peer's close_notify or end of stream.
    public func closeWrite() async throws {
        assertOnLoop("closeWrite")
        if isClosed { throw closedError("shut down") }
        guard !isWriteClosed else { return }
        try encryptPendingNow()
        isWriteClosed = true
        engine.shutdown()
        try sendOutput()
        try await underlying.closeWrite()
    }

    /// Closes the stream: a task waiting to read gets a `UVError` (`ECANCELED`). Queued records
    /// and close_notify are given up to a second to leave, then the wrapped stream is closed
    /// (so it closes an iteration or so later, not at once). Calling it twice is harmless.
    public func close() {
        assertOnLoop("close")
        guard !isClosed else { return }
        isClosed = true
        reader = LineReader(maxLineLength: reader.maxLineLength)
        guard !underlying.isClosed else { return }
        if !isWriteClosed && writeFailure == nil {
            try? encryptPendingNow()
            isWriteClosed = true
            engine.shutdown()
            try? sendOutput()
        }
        guard underlying.bufferedWriteCount > 0 else {
            underlying.close()
            return
        }
        let underlying = underlying
        let loop = loop
        loop.spawn {
            defer { underlying.close() }
            _ = try? await loop.withTimeout(.seconds(1)) { try await underlying.flush() }
        }
    }

    // MARK: Helpers

    /// Misuse from another thread is a programming error, caught in debug builds.
    private func assertOnLoop(_ operation: String) {
        assert(loop.isOnLoopThread, "TLSStream.\(operation) called off its loop's thread")
    }

    private func sendOutput() throws {
        if let ciphertext = engine.takeOutput() { try underlying.write(ciphertext) }
    }

    private func closedError(_ operation: String) -> UVError {
        UVError(code: UVError.Code.cancelled, operation: operation, target: "closed \(description)")
    }

    private static func describePeer(of stream: any ByteStream, serverName: String?) -> String {
        let address = stream.peerAddress
        if let serverName, !serverName.isEmpty {
            return address.map { "\(serverName):\($0.port)" } ?? serverName
        }
        return address?.description ?? stream.description
    }
}
