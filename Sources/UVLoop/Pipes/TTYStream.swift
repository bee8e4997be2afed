import CLibUV

/// A ``Stream`` over a terminal (`uv_tty_t`): read keystrokes or lines, write output, switch
/// to raw mode, read the window size.
///
/// ``Stream/standardInput(on:)`` and ``Stream/standardOutput(on:)`` return one when the
/// descriptor is a terminal.
///
/// ```swift
/// if let tty = try Stream.standardInput(on: loop) as? TTYStream {
///     try tty.setMode(.raw)
///     defer { TTYStream.resetMode() }
///     while let keys = try await tty.read() { handle(keys) }
/// }
/// ```
public final class TTYStream: Stream {
    /// How the terminal processes input.
    public enum Mode: Sendable {
        /// Line-buffered, echoed input, as the shell leaves it.
        case normal
        /// Every byte as typed: no echo, no line editing, no signals from Ctrl-C.
        case raw
        /// Binary-safe I/O mode (for a terminal used as a byte pipe).
        case io
    }

    var tty: UnsafeMutablePointer<uv_tty_t> {
        UnsafeMutableRawPointer(stream).assumingMemoryBound(to: uv_tty_t.self)
    }

    private let fileDescriptor: Int32

    /// Opens the terminal on `fileDescriptor` as a stream.
    ///
    /// Throws `UVError` (`EINVAL` when the descriptor is not a terminal). Who closes what: libuv
    /// reopens a terminal (slave) device by path, so that non-blocking mode does not leak to
    /// other processes sharing it, and ``close()`` closes that copy — `fileDescriptor` stays
    /// yours. A pseudo-terminal's master side cannot be reopened: ``close()`` closes
    /// `fileDescriptor` itself (never 0, 1 or 2).
    public init(fileDescriptor: Int32, on loop: Loop) throws {
        loop.assertOnLoop("open a terminal")
        let tty = allocateHandle(UV_TTY, as: uv_tty_t.self)
        let status = uv_tty_init(loop.uv, tty, fileDescriptor, 0)
        if status < 0 {
            UnsafeMutableRawPointer(tty).deallocate()
            throw UVError(code: status, operation: "open terminal on", target: "file descriptor \(fileDescriptor)")
        }
        self.fileDescriptor = fileDescriptor
        super.init(loop: loop, stream: UnsafeMutableRawPointer(tty).assumingMemoryBound(to: uv_stream_t.self), maxLineLength: 64 * 1024)
    }

    /// Sets the terminal's input mode. Call ``resetMode()`` before the program exits to give the
    /// shell back a normal terminal.
    public func setMode(_ mode: Mode) throws {
        loop.assertOnLoop("setMode")
        try checkOpen("set mode of")
        let value: uv_tty_mode_t =
            switch mode {
            case .normal: UV_TTY_MODE_NORMAL
            case .raw: UV_TTY_MODE_RAW
            case .io: UV_TTY_MODE_IO
            }
        try UVError.check(uv_tty_set_mode(tty, value), "set mode of", endpointDescription)
    }

    /// Restores the mode every terminal had before the first ``setMode(_:)`` of this process.
    /// Safe to call from any thread, and when no mode was ever changed.
    public static func resetMode() {
        _ = uv_tty_reset_mode()
    }

    /// The terminal's size in columns and rows.
    public func windowSize() throws -> (width: Int, height: Int) {
        loop.assertOnLoop("windowSize")
        try checkOpen("get window size of")
        var width: Int32 = 0
        var height: Int32 = 0
        try UVError.check(uv_tty_get_winsize(tty, &width, &height), "get window size of", endpointDescription)
        return (Int(width), Int(height))
    }

    /// Throws ``UVError/Code/closed`` once closed: the handle's memory is freed by then.
    private func checkOpen(_ operation: String) throws(UVError) {
        if isClosed { throw closedError(operation) }
    }

    override var endpointDescription: String { "terminal (fd \(fileDescriptor))" }
}
