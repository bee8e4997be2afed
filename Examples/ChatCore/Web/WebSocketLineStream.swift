import UVLoop
import UVLoopWebSocket

/// A browser participant's WebSocket seen as a stream of lines, so the room and ``ChatSession``
/// treat it like any other participant: each text message received is one line, each line
/// written goes out as one text message (its terminator dropped).
///
/// Writes never wait: each line goes out through `WebSocket.enqueue(_:queueLimit:)`, framed
/// once for all browsers by the shared ``WebSocketLineFramer``, and the room's outbound bound
/// (``bufferedWriteCount``) applies as for TCP. A binary message is refused: the
/// socket is closed with 1003 (unsupported data) and the stream ends.
///
/// ```swift
/// let socket = try await WebSocket.accept(stream, method: "GET", version: "HTTP/1.1", headers: fields)
/// let participant = room.admit(WebSocketLineStream(socket), kind: .websocket)
/// ```
public final class WebSocketLineStream: ByteStream {
    /// The WebSocket carried.
    public let socket: WebSocket
    /// The longest message accepted as a line, in bytes; a longer one is refused like a long line.
    public var maxLineLength: Int
    /// True once ``close()`` was called.
    public private(set) var isClosed = false

    /// Frames the lines written; shared by the streams of one server.
    let framer: WebSocketLineFramer

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
        guard !isClosed, let message = try await socket.receive() else { return nil }
        switch message {
        case .text(let text):
            if text.utf8.count > maxLineLength { throw LineTooLongError(limit: maxLineLength) }
            return Bytes(text + "\n")
        case .binary:
            await socket.close(code: .unsupportedData, reason: "text messages only")
            return nil
        }
    }

    /// True if bytes of a message (or part of one) have arrived and not been read yet.
    public var hasBufferedInput: Bool { socket.hasBufferedInput }

    /// Calls `handler` once when ``readLineBytes()`` has something new to work on (see
    /// `WebSocket.whenReadable(_:)`), at once if it already has; `false` over TLS.
    @discardableResult
    public func whenReadable(_ handler: @escaping () -> Void) -> Bool {
        if isClosed {
            handler()
            return true
        }
        return socket.whenReadable(handler)
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
