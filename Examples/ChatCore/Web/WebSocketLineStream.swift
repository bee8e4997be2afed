import UVLoop
import UVLoopWebSocket

/// A browser participant's WebSocket seen as a stream of lines, so the room and ``ChatSession``
/// treat it like any other participant: each text message received is one line, each line
/// written goes out as one text message (its terminator dropped).
///
/// Writes never wait: each line goes out through `WebSocket.enqueue(_:queueLimit:)`, framed
/// once for all browsers by the shared ``WebSocketLineFramer``, and the room's outbound bound
/// (``bufferedWriteCount``) applies as for TCP. The room's broadcasts do not come through here:
/// it hands them to all its browsers' sockets at once (`WebSocket.broadcast`, see ``Room``). A
/// binary message is refused: the socket is closed with 1003 (unsupported data) and the stream ends.
///
/// ```swift
/// let socket = try await WebSocket.accept(stream, method: "GET", version: "HTTP/1.1", headers: fields)
/// let participant = room.admit(WebSocketLineStream(socket), kind: .websocket)
/// ```
public final class WebSocketLineStream: ByteStream {
    /// The WebSocket carried.
    public let socket: WebSocket
    // @exclusivity(unchecked) below: loop-thread-only state, and no access spans a call that
    // could reach it again, so the runtime's dynamic exclusivity checks cannot fire; they cost
    // ~150 instructions per line written to a browser (callgrind, fan-out 100 × 10).
    /// The longest message accepted as a line, in bytes; a longer one is refused like a long line.
    @exclusivity(unchecked) public var maxLineLength: Int
    /// True once ``close()`` was called.
    @exclusivity(unchecked) public private(set) var isClosed = false

    /// Frames the lines written; shared by the streams of one server.
    let framer: WebSocketLineFramer
    /// What a wake-up (``whenLineAvailable(_:)``) received, for the next ``readLineBytes()``.
    @exclusivity(unchecked) private var held: Result<WebSocket.Message?, any Error>?

    /// Wraps an open server-side WebSocket; `framer` is shared with the server's other browsers.
    public init(_ socket: WebSocket, maxLineLength: Int = 4096, framer: WebSocketLineFramer = WebSocketLineFramer()) {
        self.socket = socket
        self.maxLineLength = maxLineLength
        self.framer = framer
    }

    /// The loop of the socket's stream.
    public var loop: Loop { socket.stream.loop }

    /// "WebSocket " and the underlying stream's description.
    public var description: String { "WebSocket \(socket.stream.description)" }

    /// The next text message as one line; `nil` when the socket closes (or after a binary message).
    public func read() async throws -> Bytes? { try await readLineBytes() }

    /// The next text message with a line feed appended; throws `LineTooLongError` for one over
    /// ``maxLineLength``. A binary message closes the socket with 1003 and ends the stream.
    public func readLineBytes() async throws -> Bytes? {
        guard !isClosed else { return nil }
        let message: WebSocket.Message?
        if let held {
            self.held = nil
            message = try held.get()
        } else {
            message = try await socket.receive()
        }
        guard let message else { return nil }
        switch message {
        case .text(let text):
            if text.utf8.count > maxLineLength { throw LineTooLongError(limit: maxLineLength) }
            return WebSocketLineStream.line(text)
        case .binary:
            await socket.close(code: .unsupportedData, reason: "text messages only")
            return nil
        }
    }

    /// `text`'s UTF-8 and a line feed, copied once: no `String` is made on the way (a browser's
    /// line costs one allocation here, not three).
    static func line(_ text: String) -> Bytes {
        var text = text
        return text.withUTF8 { utf8 in
            withUnsafeTemporaryAllocation(byteCount: utf8.count + 1, alignment: 1) { line in
                line.copyMemory(from: UnsafeRawBufferPointer(utf8))
                line[utf8.count] = UInt8(ascii: "\n")
                return Bytes(UnsafeRawBufferPointer(line))
            }
        }
    }

    /// True if bytes of a message (or part of one) have arrived and not been read yet.
    public var hasBufferedInput: Bool { socket.hasBufferedInput }

    /// Calls `handler` once when ``readLineBytes()`` has something new to work on (see
    /// `WebSocket.whenReadable(_:)`), at once if it already has; `false` over TLS.
    @discardableResult
    public func whenReadable(_ handler: @escaping () -> Void) -> Bool {
        if isClosed || held != nil {
            handler()
            return true
        }
        return socket.whenReadable(handler)
    }

    /// Runs `resume` in a new task once ``readLineBytes()`` has a message, the end or an error
    /// to return, without a task meanwhile: bytes that hold no message (a ping, answered here,
    /// a pong) do not call it, and it goes on waiting. Returns `false` (and does nothing) where
    /// the socket cannot wait without a task (TLS).
    public func whenLineAvailable(_ resume: @escaping () async -> Void) -> Bool {
        whenReadable { [self] in loop.spawn { await self.wake(resume) } }
    }

    /// Receives what arrived, without waiting for more; resumes the reader unless it was
    /// nothing but control frames, in which case it waits again.
    private func wake(_ resume: @escaping () async -> Void) async {
        if !isClosed, held == nil {
            do {
                switch try await socket.receiveAvailable() {
                case .message(let message): held = .success(message)
                case .closed: held = .success(nil)
                case .pending:
                    // Part of a frame waits for the rest in the reader's task; nothing at all
                    // waits without one.
                    if !hasBufferedInput, whenLineAvailable(resume) { return }
                }
            } catch {
                held = .failure(error)
            }
        }
        await resume()
    }

    /// Sends `bytes`, less a trailing line terminator, as one text message; never waits (the
    /// room bounds the queue through ``bufferedWriteCount``). Invalid UTF-8 from a TCP
    /// participant reaches the browser as U+FFFD.
    public func write(_ bytes: Bytes) throws {
        guard !isClosed else {
            throw UVError(code: UVError.Code.cancelled, operation: "write to", target: "closed \(description)")
        }
        try socket.enqueue(framer.message(for: bytes))
    }

    /// Bytes queued on the socket's stream and not yet taken by the kernel.
    public var bufferedWriteCount: Int { socket.stream.bufferedWriteCount }

    /// Waits while the socket's stream is over its high water mark.
    public func drain() async throws { try await socket.stream.drain() }

    /// Waits until everything queued has been handed to the kernel.
    public func flush() async throws { try await socket.stream.flush() }

    /// Starts the closing handshake (1000).
    public func closeWrite() async throws { await socket.close() }

    /// Closes at once for the room: the closing handshake (1000) runs in a task of its own,
    /// bounded by the socket's close timeout.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        let socket = socket
        loop.spawn { await socket.close() }
    }

    /// The socket's local address, where it runs over TCP.
    public var localAddress: SocketAddress? { (socket.stream as? TCPStream)?.localAddress ?? socket.stream.localAddress }

    /// The peer's address, where it runs over TCP.
    public var peerAddress: SocketAddress? { (socket.stream as? TCPStream)?.peerAddress ?? socket.stream.peerAddress }
}
