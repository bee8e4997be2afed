import CLibUV

#if canImport(Glibc)
    import Glibc
#endif

extension Stream {
    /// The process's standard input as a byte stream, whatever it is: a ``TTYStream`` for a
    /// terminal, a ``PipeStream`` for a pipe or socket, a ``FileStream`` for a regular file,
    /// `/dev/null` or another character device (`prog < file`, `nohup`, systemd).
    ///
    /// A pipe's or socket's descriptor is switched to non-blocking mode, which a shell sharing it
    /// sees too. Closing the stream leaves descriptor 0 open. Make one per process. Throws
    /// `UVError` `EBADF` when standard input is closed, `EINVAL` for a datagram socket or
    /// another descriptor that is not a byte stream.
    ///
    /// ```swift
    /// let input = try Stream.standardInput(on: loop)
    /// for try await line in input.lines { print("you said", line) }
    /// ```
    public static func standardInput(on loop: Loop) throws -> any ByteStream {
        try standard(fileDescriptor: 0, name: "standard input", on: loop)
    }

    /// The process's standard output as a byte stream, whatever it is; see
    /// ``standardInput(on:)``.
    ///
    /// Writes through it are queued and never wait; ``ByteStream/flush()`` waits for them.
    /// They are ordered with each other but not with `print`, which goes through the C
    /// library's buffer (a block buffer on a pipe or file): use one or the other, or
    /// ``ConsoleWriter``, which writes lines through this same path.
    public static func standardOutput(on loop: Loop) throws -> any ByteStream {
        try standard(fileDescriptor: 1, name: "standard output", on: loop)
    }

    /// The process's standard error as a byte stream; see ``standardInput(on:)``.
    public static func standardError(on loop: Loop) throws -> any ByteStream {
        try standard(fileDescriptor: 2, name: "standard error", on: loop)
    }

    /// Opens `fileDescriptor` as the kind of stream it is: a ``TTYStream`` for a terminal, a
    /// ``PipeStream`` for a pipe, socket or other stream descriptor.
    ///
    /// Throws `UVError` (`EINVAL`) for a regular file or a character device such as `/dev/null`
    /// — which have no readiness to wait for: wrap those in a ``FileStream`` — and `EBADF` for a
    /// descriptor that is not open.
    public static func open(fileDescriptor: Int32, on loop: Loop) throws -> Stream {
        switch uv_guess_handle(fileDescriptor) {
        case UV_TTY:
            return try TTYStream(fileDescriptor: fileDescriptor, on: loop)
        case UV_NAMED_PIPE, UV_TCP:
            return try PipeStream(fileDescriptor: fileDescriptor, on: loop)
        case UV_FILE:
            throw UVError(
                code: UVError.Code.invalidArgument, operation: "open a stream on",
                target: "file descriptor \(fileDescriptor) (a file or character device: use FileStream)")
        default:
            throw UVError(
                code: UVError.Code.badFileDescriptor, operation: "open a stream on", target: "file descriptor \(fileDescriptor)")
        }
    }

    /// Opens `fileDescriptor` as the kind of byte stream it is: a ``TTYStream`` for a terminal,
    /// a ``PipeStream`` for a pipe or a stream socket, a ``FileStream`` for a regular file or a
    /// character device such as `/dev/null`.
    ///
    /// ``ByteStream/close()`` closes the descriptor, except 0, 1 and 2. Throws `UVError`
    /// `EBADF` for a descriptor that is not open, `EINVAL` for a datagram socket or another
    /// descriptor that is not a byte stream.
    public static func byteStream(fileDescriptor: Int32, on loop: Loop) throws -> any ByteStream {
        try standard(fileDescriptor: fileDescriptor, name: "file descriptor \(fileDescriptor)", on: loop)
    }

    /// `fileDescriptor` as a byte stream of the kind it is, called `name` in errors.
    private static func standard(fileDescriptor: Int32, name: String, on loop: Loop) throws -> any ByteStream {
        switch uv_guess_handle(fileDescriptor) {
        case UV_TTY, UV_NAMED_PIPE, UV_TCP:
            return try open(fileDescriptor: fileDescriptor, on: loop)
        case UV_FILE:
            // libuv reports regular files and character devices (`/dev/null`) alike.
            return try FileStream(fileDescriptor: fileDescriptor, label: name, on: loop)
        case UV_UDP:
            throw UVError(code: UVError.Code.invalidArgument, operation: "open a stream on", target: "\(name) (a datagram socket)")
        case UV_UNKNOWN_HANDLE:
            if fcntl(fileDescriptor, F_GETFD) < 0 {
                throw UVError(code: UVError.Code.badFileDescriptor, operation: "open a stream on", target: "\(name) (not open)")
            }
            throw UVError(code: UVError.Code.invalidArgument, operation: "open a stream on", target: "\(name) (not a byte stream)")
        default:
            throw UVError(code: UVError.Code.invalidArgument, operation: "open a stream on", target: name)
        }
    }
}
