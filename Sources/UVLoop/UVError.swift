import CLibUV

/// An error reported by libuv, with what UVLoop was doing and to what.
///
/// Its `description` reads as a sentence a person can act on:
/// `connect to 127.0.0.1:9 failed: ECONNREFUSED (connection refused)`.
///
/// Compare ``code`` against the static codes (`UVError.Code.connectionRefused`, …)
/// to branch on a specific failure.
public struct UVError: Error, Sendable, Hashable, CustomStringConvertible {
    /// libuv's error code: a negated `errno` value on Unix (`UV_ECONNREFUSED`, …).
    public let code: Int32
    /// What was being done, for example `connect` or `listen`.
    public let operation: String
    /// The address or name it was being done to, if any (`127.0.0.1:3000`).
    public let target: String?
    /// What to do instead, when the error says more than libuv's message (`host must be …`).
    public let hint: String?

    /// Creates an error from a libuv status code.
    public init(code: Int32, operation: String, target: String? = nil, hint: String? = nil) {
        self.code = code
        self.operation = operation
        self.target = target
        self.hint = hint
    }

    /// libuv's symbolic name for the code, such as `ECONNREFUSED`.
    public var name: String { String(cString: uv_err_name(code)) }

    /// libuv's human-readable message for the code, such as `connection refused`.
    public var message: String { String(cString: uv_strerror(code)) }

    public var description: String {
        let subject = target.map { "\(operation) \($0)" } ?? operation
        return "\(subject) failed: \(name) (\(message))" + (hint.map { ": \($0)" } ?? "")
    }

    /// True when the operation failed because the stream, socket or listener was closed on this
    /// side, before or during the call, whatever the operation (read, write, drain, flush,
    /// closeWrite, send, receive, accept, an option): its code is ``Code/closed``.
    ///
    /// ```swift
    /// do { try await stream.flush() } catch let error as UVError where error.isClosed { return }
    /// ```
    public var isClosed: Bool { code == Code.closed }

    /// True when the peer went away: it reset the connection (`ECONNRESET`), or it is gone
    /// while we write (`EPIPE`).
    public var isConnectionReset: Bool { code == Code.connectionReset || code == Code.brokenPipe }

    /// Throws a `UVError` when `status` is negative; returns it otherwise.
    @discardableResult
    static func check(_ status: Int32, _ operation: @autoclosure () -> String, _ target: @autoclosure () -> String? = nil) throws(UVError)
        -> Int32
    {
        if status < 0 { throw UVError(code: status, operation: operation(), target: target()) }
        return status
    }
}

extension UVError {
    /// Codes that callers commonly match on.
    public enum Code {
        /// The peer refused the connection.
        public static let connectionRefused = Int32(UV_ECONNREFUSED.rawValue)
        /// The peer reset the connection.
        public static let connectionReset = Int32(UV_ECONNRESET.rawValue)
        /// The address is already in use.
        public static let addressInUse = Int32(UV_EADDRINUSE.rawValue)
        /// Writing to a connection whose reading side is gone.
        public static let brokenPipe = Int32(UV_EPIPE.rawValue)
        /// The stream, socket or listener was closed on this side (libuv's `ECANCELED`, which it
        /// also gives the requests a close cuts short). See ``UVError/isClosed``.
        public static let closed = Int32(UV_ECANCELED.rawValue)
        /// libuv's `ECANCELED`: the same code as ``closed``, the name libuv gives it.
        public static let cancelled = Int32(UV_ECANCELED.rawValue)
        /// The operation timed out.
        public static let timedOut = Int32(UV_ETIMEDOUT.rawValue)
        /// A file descriptor that is not open (a closed stream throws ``closed`` instead).
        public static let badFileDescriptor = Int32(UV_EBADF.rawValue)
        /// End of stream.
        public static let endOfFile = Int32(UV_EOF.rawValue)
        /// A name did not resolve.
        public static let nameNotFound = Int32(UV_EAI_NONAME.rawValue)
        /// Too many open files in this process.
        public static let tooManyOpenFiles = Int32(UV_EMFILE.rawValue)
        /// Too many open files in the system.
        public static let tooManyOpenFilesInSystem = Int32(UV_ENFILE.rawValue)
        /// Invalid argument.
        public static let invalidArgument = Int32(UV_EINVAL.rawValue)
        /// Not connected.
        public static let notConnected = Int32(UV_ENOTCONN.rawValue)
        /// No such file or directory.
        public static let notFound = Int32(UV_ENOENT.rawValue)
        /// The file or directory already exists.
        public static let alreadyExists = Int32(UV_EEXIST.rawValue)
        /// Permission denied.
        public static let permissionDenied = Int32(UV_EACCES.rawValue)
        /// Operation not permitted.
        public static let notPermitted = Int32(UV_EPERM.rawValue)
        /// The connection was aborted (a client gone before it was accepted).
        public static let connectionAborted = Int32(UV_ECONNABORTED.rawValue)
        /// A path component is not a directory.
        public static let notADirectory = Int32(UV_ENOTDIR.rawValue)
        /// The path is a directory where a file was expected.
        public static let isADirectory = Int32(UV_EISDIR.rawValue)
        /// The directory is not empty.
        public static let directoryNotEmpty = Int32(UV_ENOTEMPTY.rawValue)
        /// Out of memory.
        public static let outOfMemory = Int32(UV_ENOMEM.rawValue)
        /// No buffer space available.
        public static let noBufferSpace = Int32(UV_ENOBUFS.rawValue)
        /// The address is not available on this host.
        public static let addressNotAvailable = Int32(UV_EADDRNOTAVAIL.rawValue)
        /// The host is unreachable.
        public static let hostUnreachable = Int32(UV_EHOSTUNREACH.rawValue)
        /// The message is too long (a datagram over the limit).
        public static let messageTooLong = Int32(UV_EMSGSIZE.rawValue)
    }
}
