/// The byte-stream contract: what protocol code (TLS, HTTP, WebSocket, Redis, the chat room)
/// is written against, so that it runs over TCP, Unix-domain sockets, pipes, TTYs and TLS alike.
///
/// ``Stream`` (and so ``TCPStream``, ``PipeStream``, ``TTYStream``) satisfies it; so does a TLS
/// stream, which wraps another `ByteStream`. Like every stream, a `ByteStream` belongs to its
/// ``loop``: use it from that loop's tasks only.
///
/// ```swift
/// func greet(_ stream: some ByteStream) async throws {
///     try stream.write("who are you?\n")
///     guard let name = try await stream.readLine() else { return }
///     try stream.write("hello, \(name)\n")
///     try await stream.flush()
/// }
/// ```
///
/// Errors: a stream closed on this side throws a `UVError` whose ``UVError/isClosed`` is true,
/// whatever the operation; a peer that went away, one whose ``UVError/isConnectionReset`` is
/// true. Every wait throws `CancellationError` when its task is cancelled.
public protocol ByteStream: AnyObject, CustomStringConvertible {
    /// The loop the stream belongs to.
    var loop: Loop { get }

    /// Reads whatever bytes are available, waiting for at least one; `nil` at end of stream.
    func read() async throws -> Bytes?

    /// Reads the next line, terminator included, exactly as received; `nil` at end of stream.
    /// A line over ``maxLineLength`` throws ``LineTooLongError`` and is skipped.
    func readLineBytes() async throws -> Bytes?

    /// The longest line ``readLineBytes()`` accepts, in bytes without the terminator.
    var maxLineLength: Int { get set }

    /// Calls `handler` once, on the loop, when ``read()`` would not wait, without a task
    /// waiting; returns `false` if the stream cannot (then nothing is called: read in a task).
    /// See ``Stream/whenReadable(_:)``.
    @discardableResult
    func whenReadable(_ handler: @escaping () -> Void) -> Bool

    /// Queues `bytes` to be written; never waits.
    func write(_ bytes: Bytes) throws

    /// Bytes written but not yet handed to the kernel.
    var bufferedWriteCount: Int { get }

    /// Waits while the write queue is over its high water mark (backpressure).
    func drain() async throws

    /// Waits until every queued byte has been handed to the kernel.
    func flush() async throws

    /// Closes the writing side once queued bytes are written; reading goes on.
    func closeWrite() async throws

    /// Closes the stream now, dropping unwritten bytes; calling it twice is harmless.
    func close()

    /// True once ``close()`` was called.
    var isClosed: Bool { get }

    /// This end's socket address, where there is one (TCP).
    var localAddress: SocketAddress? { get }

    /// The peer's socket address, where there is one (TCP).
    var peerAddress: SocketAddress? { get }
}

extension ByteStream {
    /// Reads the next line without its LF or CRLF, decoded as UTF-8 (invalid bytes become
    /// U+FFFD); `nil` at end of stream.
    public func readLine() async throws -> String? {
        guard let line = try await readLineBytes() else { return nil }
        return LineReader.trimmingTerminator(line).string
    }

    /// Queues the UTF-8 bytes of `string`.
    public func write(_ string: String) throws {
        try write(Bytes(string))
    }

    /// Not supported by default: returns `false`.
    @discardableResult
    public func whenReadable(_ handler: @escaping () -> Void) -> Bool { false }

    public var localAddress: SocketAddress? { nil }
    public var peerAddress: SocketAddress? { nil }
}

extension Stream: ByteStream {}
