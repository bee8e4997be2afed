import UVLoop

/// A WebSocket connection (RFC 6455, with permessage-deflate from RFC 7692) over any
/// ``ByteStream``: TCP, a Unix socket, TLS.
///
/// Make one with ``upgrade(_:options:)`` or ``accept(_:method:version:headers:leftover:options:)``
/// on a server, or ``connect(url:on:options:)`` on a client. Then one task receives while any
/// task of the loop sends:
///
/// ```swift
/// let socket = try await WebSocket.upgrade(stream)
/// for try await message in socket.messages {
///     if case .text(let text) = message { try await socket.send(text: text) }
/// }
/// ```
///
/// Pings are answered by ``receive()`` as they arrive. A peer that breaks the protocol gets a
/// close frame with the fitting code (1002, 1007, 1009) and the TCP connection is closed; the
/// receiving task then gets a ``WebSocketError``. A WebSocket belongs to its stream's loop.
public final class WebSocket {
    /// A whole message.
    public enum Message: Sendable, Equatable {
        /// A UTF-8 text message.
        case text(String)
        /// A binary message.
        case binary(Bytes)
    }

    enum State {
        case open
        /// This end sent a close frame and waits for the peer's.
        case closing
        /// Both close frames were exchanged, or the connection failed.
        case closed
    }

    /// The stream the connection runs over.
    public let stream: any ByteStream
    /// Which end this is.
    public let role: WebSocketRole
    /// The subprotocol agreed in the handshake, if any.
    public let subprotocol: String?
    /// The permessage-deflate settings agreed in the handshake, if any.
    public let compression: PerMessageDeflateParameters?
    /// The limits this session enforces.
    public let options: Options
    /// The code of the peer's close frame: nil while open, ``WebSocketCloseCode/noStatusReceived``
    /// if it had none, ``WebSocketCloseCode/abnormalClosure`` if the connection ended without one.
    public private(set) var closeCode: WebSocketCloseCode?
    /// The reason in the peer's close frame.
    public private(set) var closeReason = ""

    // @exclusivity(unchecked) below: a WebSocket is used on its loop's thread only, and no
    // access to these spans a call that could reach them again (one receiver at a time), so the
    // runtime's dynamic exclusivity checks cannot fire; they cost ~500 instructions a message.
    @exclusivity(unchecked) private(set) var state = State.open
    @exclusivity(unchecked) private var decoder: WebSocketFrameDecoder
    @exclusivity(unchecked) private var assembler: WebSocketMessageAssembler
    private let deflater: WebSocketDeflater?
    @exclusivity(unchecked) private var isReceiving = false
    private let finished: Event
    private var keepAlive: SpawnedTask?
    private var awaitingPong = false
    /// See ``collectionIndex``; `UInt32.max` for none.
    private var collectionSlot = CollectionSlot()
    /// The stream as a `Stream` (TCP, a Unix socket) when this is a server end without
    /// compression, so its messages' frames are the same bytes for every such socket: a
    /// broadcast queues a ``PreparedMessage``'s frame on it like a line. `nil` otherwise.
    /// Unmanaged: it is `stream`, which this socket holds strongly for its whole life.
    let sharedFrameStream: Unmanaged<Stream>?

    /// A session over `stream` whose handshake is done; `leftover` holds bytes already read
    /// past the handshake (they are the first frames).
    public init(
        stream: any ByteStream, role: WebSocketRole, leftover: Bytes = Bytes(), subprotocol: String? = nil,
        compression: PerMessageDeflateParameters? = nil, options: Options = Options()
    ) {
        self.stream = stream
        self.role = role
        self.subprotocol = subprotocol
        self.compression = compression
        self.options = options
        decoder = WebSocketFrameDecoder(role: role, maxPayloadLength: options.maxMessageSize)
        var inflater: WebSocketInflater?
        var deflater: WebSocketDeflater?
        if let compression {
            let level = options.compression?.compressionLevel ?? 6
            let memoryLevel = options.compression?.memoryLevel ?? 8
            let (ownBits, ownReset, peerReset) =
                role == .server
                ? (compression.serverMaxWindowBits, compression.serverNoContextTakeover, compression.clientNoContextTakeover)
                : (compression.clientMaxWindowBits, compression.clientNoContextTakeover, compression.serverNoContextTakeover)
            deflater = WebSocketDeflater(windowBits: ownBits, level: level, memoryLevel: memoryLevel, noContextTakeover: ownReset)
            inflater = WebSocketInflater(noContextTakeover: peerReset)
            decoder.allowedReservedBits = WebSocketFrame.rsv1
        }
        self.deflater = deflater
        sharedFrameStream = role == .server && deflater == nil ? (stream as? Stream).map { .passUnretained($0) } : nil
        assembler = WebSocketMessageAssembler(maxMessageSize: options.maxMessageSize, inflater: inflater)
        finished = Event(on: stream.loop)
        if !leftover.isEmpty { decoder.append(leftover) }
        if let interval = options.pingInterval { startKeepAlive(every: interval) }
    }

    /// True until the closing handshake starts or the connection fails.
    public var isOpen: Bool { state == .open }

    /// The socket's index in the collection its owner keeps it in, if the owner sets one (as
    /// `Stream.collectionIndex`): with it, finding and removing the socket there costs O(1).
    /// The WebSocket never reads it. `nil` until set; at most `UInt32.max - 1`.
    public var collectionIndex: Int? {
        get { collectionSlot.index }
        set { collectionSlot.index = newValue }
    }

    /// The messages, one per iteration, until the connection closes; see ``receive()``.
    public var messages: Messages { Messages(socket: self) }

    /// Waits for the next message; nil once the connection is closed (see ``closeCode``).
    ///
    /// Answers pings and completes the closing handshake as frames arrive. Throws
    /// ``WebSocketError`` (kind `protocolViolation`) after closing the connection when the
    /// peer breaks the protocol, the stream's error if the connection is lost, and
    /// `CancellationError` if the task is cancelled (the connection stays open).
    /// Only one task may receive at a time; a second gets ``WebSocketError`` (`concurrentReceive`).
    public func receive() async throws -> Message? {
        if case .message(let message) = try await receive(readingAtMost: .max) { return message }
        return nil
    }

    /// What ``receiveAvailable()`` found.
    public enum Availability: Sendable, Equatable {
        /// A whole message.
        case message(Message)
        /// The connection is closed (see ``closeCode``).
        case closed
        /// The bytes received held no whole message (a ping, now answered, a pong, part of a
        /// frame): wait for more with ``whenReadable(_:)``.
        case pending
    }

    /// Like ``receive()``, but reads the stream at most once, and only if the frames already
    /// received hold no message: called from the handler of ``whenReadable(_:)``, it never waits
    /// for bytes, so a session woken by a ping can answer it and go back to waiting without a
    /// task. Throws what ``receive()`` throws.
    public func receiveAvailable() async throws -> Availability {
        try await receive(readingAtMost: 1)
    }

    /// ``receive()``, reading the stream at most `reads` times.
    @inline(__always)  // one async frame for receive(), not two: it runs once a message
    private func receive(readingAtMost reads: Int) async throws -> Availability {
        guard !isReceiving else {
            throw WebSocketError(.concurrentReceive, peer: stream.description, "receive called while another task is receiving")
        }
        isReceiving = true
        defer { isReceiving = false }
        var reads = reads
        while state != .closed {
            do {
                while let frame = try decoder.nextFrame() {
                    guard let event = try assembler.receive(frame) else { continue }
                    switch event {
                    case .text(let text): if state == .open { return .message(.text(text)) }
                    case .binary(let bytes): if state == .open { return .message(.binary(bytes)) }
                    case .ping(let payload):
                        guard state == .open else { continue }
                        try writeFrame(.pong, payload)
                        // A ping flood from a peer that does not read its pongs waits here
                        // instead of growing the write queue.
                        try await stream.drain()
                    case .pong: awaitingPong = false
                    case .close(let code, let reason):
                        closeCode = code ?? .noStatusReceived
                        closeReason = reason
                        if state == .open {
                            // Echo the status code, as RFC 6455 §5.5.1 asks.
                            state = .closing
                            try? writeFrame(.close, WebSocketMessageAssembler.closePayload(code: code, reason: ""))
                        }
                        await finish()
                        return .closed
                    }
                }
                // Text still arriving is checked now, so invalid UTF-8 fails before its frame ends
                // (nothing to check when every byte received made whole frames, as usually).
                if state == .open, decoder.bufferedByteCount > 0 {
                    let wanted = { (opcode: WebSocketOpcode, bits: UInt8) in
                        self.assembler.wantsEarlyValidation(opcode: opcode, reservedBits: bits)
                    }
                    if let partial = decoder.takePartialPayload(if: wanted) {
                        try assembler.validatePartial(partial.bytes, opcode: partial.opcode)
                    }
                }
            } catch let error as WebSocketProtocolError {
                await fail(code: error.closeCode, reason: error.reason)
                throw WebSocketError(.protocolViolation, peer: stream.description, error.reason, closeCode: error.closeCode)
            }
            guard reads > 0 else { return .pending }
            reads -= 1
            let bytes: Bytes?
            do {
                bytes = try await stream.read()
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                if state == .closed { return .closed }
                closeCode = closeCode ?? .abnormalClosure
                await finish()
                throw error
            }
            guard let bytes else {
                closeCode = closeCode ?? .abnormalClosure
                await finish()
                return .closed
            }
            decoder.append(bytes)
        }
        return .closed
    }

    /// True if bytes have arrived that ``receive()`` has not yet made into a message (a frame,
    /// or part of one): a session that wants to wait without a task checks this first.
    public var hasBufferedInput: Bool { decoder.bufferedByteCount > 0 }

    /// Calls `handler` once, on the loop, when ``receive()`` has something new to work on:
    /// bytes arrived, or the stream ended, failed or was closed. If it already has (bytes
    /// buffered, or the connection closed), calls it at once. Returns `false` where the stream
    /// cannot wait without a task (TLS): then nothing is called, receive in a task.
    ///
    /// It lets an idle session hold no task: end the task, and spawn one from `handler` that
    /// calls ``receive()``. Pings that arrive meanwhile are answered by that ``receive()``,
    /// which then waits in its task for the next message. See `ByteStream.whenReadable(_:)`.
    ///
    /// ```swift
    /// func serve(_ socket: WebSocket) async {
    ///     while let message = try? await socket.receive() {
    ///         handle(message)
    ///         if !socket.hasBufferedInput, socket.whenReadable({ loop.spawn { await serve(socket) } }) { return }
    ///     }
    /// }
    /// ```
    @discardableResult
    public func whenReadable(_ handler: @escaping () -> Void) -> Bool {
        if decoder.bufferedByteCount > 0 || state == .closed {
            handler()
            return true
        }
        return stream.whenReadable(handler)
    }

    /// Sends a text message, then waits while the stream's write queue is over its high water
    /// mark (backpressure). Throws ``WebSocketError`` (`notOpen`) once closing has begun.
    public func send(text: String) async throws {
        try sendText(text)
        try await stream.drain()
    }

    /// Frames and queues a text message; never waits. A server frame without compression is
    /// built straight from the string's UTF-8, without making `Bytes` of it first.
    func sendText(_ text: String) throws {
        guard role == .server, !compressesMessage(ofSize: text.utf8.count) else { return try sendMessage(.text, Bytes(text)) }
        guard state == .open else { throw WebSocketError(.notOpen, peer: stream.description, "send after close") }
        var text = text
        let frame = text.withUTF8 { WebSocketFrameEncoder.encode(opcode: .text, payload: UnsafeRawBufferPointer($0)) }
        try stream.write(frame)
    }

    /// Sends a binary message, then waits while the write queue is over its high water mark.
    public func send(binary: Bytes) async throws {
        try sendMessage(.binary, binary)
        try await stream.drain()
    }

    /// Sends a ping with up to 125 bytes of payload; its pong is consumed by ``receive()``.
    public func ping(_ payload: Bytes = Bytes()) throws {
        guard state == .open else { throw WebSocketError(.notOpen, peer: stream.description, "ping after close") }
        try writeFrame(.ping, payload.count <= 125 ? payload : payload.slice(0..<125))
    }

    /// Starts the closing handshake with `code` and `reason` (cut to 123 bytes), waits up to
    /// ``Options/closeTimeout`` for the peer's close frame and for the TCP close, then closes
    /// the stream. Messages that arrive meanwhile are dropped. Harmless if already closed.
    public func close(code: WebSocketCloseCode = .normalClosure, reason: String = "") async {
        if state == .open {
            state = .closing
            try? writeFrame(.close, WebSocketMessageAssembler.closePayload(code: code, reason: reason))
        }
        if isReceiving {
            // The receiving task completes the handshake; wait for it.
            _ = try? await stream.loop.withTimeout(options.closeTimeout) { try await finished.wait() }
        } else if state == .closing {
            _ = try? await stream.loop.withTimeout(options.closeTimeout) {
                while try await receive() != nil {}
            }
        }
        if state != .closed { closeStream() }
    }

    /// Frames (and compresses) one message and queues it; never waits.
    func sendMessage(_ opcode: WebSocketOpcode, _ payload: Bytes) throws {
        guard state == .open else { throw WebSocketError(.notOpen, peer: stream.description, "send after close") }
        if let deflater, compressesMessage(ofSize: payload.count) {
            try writeFrame(opcode, deflater.compress(payload), reservedBits: WebSocketFrame.rsv1)
        } else {
            try writeFrame(opcode, payload)
        }
    }

    /// True if a message of `size` bytes goes out compressed (agreed, and not below the minimum).
    func compressesMessage(ofSize size: Int) -> Bool {
        deflater != nil && size >= (options.compression?.minimumCompressedSize ?? 0)
    }

    private func writeFrame(_ opcode: WebSocketOpcode, _ payload: Bytes, reservedBits: UInt8 = 0) throws {
        switch role {
        case .client:
            let frame = WebSocketFrame(opcode: opcode, payload: payload, reservedBits: reservedBits)
            try stream.write(WebSocketFrameEncoder.encode(frame, maskingKey: WebSocketFrameEncoder.randomMaskingKey()))
        case .server where payload.count > 4096:
            // Large payloads go out without a copy: the header, then the payload as it is.
            try stream.write(Bytes(WebSocketFrameEncoder.header(opcode: opcode, payloadLength: payload.count, reservedBits: reservedBits)))
            try stream.write(payload)
        case .server:
            try stream.write(WebSocketFrameEncoder.encode(WebSocketFrame(opcode: opcode, payload: payload, reservedBits: reservedBits)))
        }
    }

    /// Fails the connection (RFC 6455 §7.1.7): a close frame with `code`, then the TCP close.
    private func fail(code: WebSocketCloseCode, reason: String) async {
        if state == .open {
            state = .closing
            try? writeFrame(.close, WebSocketMessageAssembler.closePayload(code: code, reason: reason))
        }
        await finish()
    }

    /// Ends the connection once close frames are exchanged (or it failed): the server shuts its
    /// side down first and waits for the client's FIN; the client waits for the server's; both
    /// bounded by the close timeout.
    private func finish() async {
        guard state != .closed else { return }
        state = .closed
        closeCode = closeCode ?? .abnormalClosure
        keepAlive?.cancel()
        if !stream.isClosed {
            _ = try? await stream.loop.withTimeout(options.closeTimeout) {
                if role == .server { try await stream.closeWrite() } else { try await stream.flush() }
                while try await stream.read() != nil {}
            }
        }
        closeStream()
    }

    private func closeStream() {
        state = .closed
        keepAlive?.cancel()
        stream.close()
        finished.set()
    }

    private func startKeepAlive(every interval: Duration) {
        keepAlive = stream.loop.spawn { [weak self] in
            while true {
                try await self?.stream.loop.sleep(for: interval)
                guard let self, self.state == .open else { return }
                if self.awaitingPong {
                    await self.fail(code: .internalError, reason: "keep-alive ping timeout")
                    return
                }
                self.awaitingPong = true
                try? self.ping(Bytes("keep-alive"))
            }
        }
    }
}

extension WebSocket {
    /// The messages of a ``WebSocket`` as an async sequence; ends when the connection closes.
    public struct Messages: AsyncSequence {
        public typealias Element = Message
        public typealias Failure = any Error
        let socket: WebSocket

        /// An iterator calling ``WebSocket/receive()``.
        public func makeAsyncIterator() -> Iterator { Iterator(socket: socket) }

        /// Calls ``WebSocket/receive()`` on each step.
        public struct Iterator: AsyncIteratorProtocol {
            let socket: WebSocket

            /// The next message, or nil once the connection is closed.
            public mutating func next() async throws -> Message? { try await socket.receive() }
        }
    }
}
