import CLibUV

extension Stream {
    /// The process's standard input as a stream: a ``TTYStream`` for a terminal, a
    /// ``PipeStream`` for a pipe or socket.
    ///
    /// Throws `UVError` (`EINVAL`) when standard input is a regular file (use ``File``) or
    /// closed. Its descriptor is switched to non-blocking mode, which a shell sharing a pipe sees
    /// too; closing the stream leaves descriptor 0 open. Make one per process.
    ///
    /// ```swift
    /// let input = try Stream.standardInput(on: loop)
    /// for try await line in input.lines { print("you said", line) }
    /// ```
    public static func standardInput(on loop: Loop) throws -> Stream {
        try open(fileDescriptor: 0, on: loop)
    }

    /// The process's standard output as a stream; see ``standardInput(on:)``.
    ///
    /// Writes through it are ordered with each other but not with `print`, which goes through
    /// the C library's buffer: use one or the other.
    public static func standardOutput(on loop: Loop) throws -> Stream {
        try open(fileDescriptor: 1, on: loop)
    }

    /// The process's standard error as a stream; see ``standardInput(on:)``.
    public static func standardError(on loop: Loop) throws -> Stream {
        try open(fileDescriptor: 2, on: loop)
    }

    /// Opens `fileDescriptor` as the kind of stream it is: a ``TTYStream`` for a terminal, a
    /// ``PipeStream`` for a pipe, socket or other stream descriptor.
    ///
    /// Throws `UVError` (`EINVAL`) for a regular file — which has no readiness to wait for; use
    /// ``File`` — and for a descriptor that is not open.
    public static func open(fileDescriptor: Int32, on loop: Loop) throws -> Stream {
        switch uv_guess_handle(fileDescriptor) {
        case UV_TTY:
            return try TTYStream(fileDescriptor: fileDescriptor, on: loop)
        case UV_NAMED_PIPE, UV_TCP:
            return try PipeStream(fileDescriptor: fileDescriptor, on: loop)
        case UV_FILE:
            throw UVError(
                code: UVError.Code.invalidArgument, operation: "open a stream on",
                target: "file descriptor \(fileDescriptor) (a regular file)")
        default:
            throw UVError(
                code: UVError.Code.badFileDescriptor, operation: "open a stream on", target: "file descriptor \(fileDescriptor)")
        }
    }
}
