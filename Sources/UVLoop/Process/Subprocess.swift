import CLibUV

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A child process started with `uv_spawn`: its pipes as streams, its exit status, and
/// ``kill(_:)``.
///
/// libuv reaps the child (it installs its own SIGCHLD handler on the loop); ``wait()`` returns
/// how it ended. Each stdio slot is inherited, discarded, redirected to a descriptor, or piped —
/// a piped slot appears as a ``PipeStream`` in ``standardInput``, ``standardOutput`` or
/// ``standardError``, which the caller reads, writes and closes like any stream.
///
/// A child that is still running holds a handle: ``wait()`` for it (or ``kill(_:)`` it, then
/// wait) before the loop ends, or the loop reports the handle as left open.
///
/// ```swift
/// let child = try Subprocess.spawn("/bin/ls", arguments: ["-l"], standardOutput: .pipe, on: loop)
/// for try await line in child.standardOutput!.lines { print(line) }
/// child.standardOutput!.close()
/// let status = try await child.wait()
/// print("ls exited with \(status)")
/// ```
public final class Subprocess: HandleOwner {
    /// What a child's standard input, output or error is connected to.
    public enum StandardIO: Sendable, Hashable {
        /// The child shares this process's descriptor (the terminal, or wherever it points).
        case inherit
        /// A new pipe, readable or writable through a ``PipeStream`` on the ``Subprocess``.
        case pipe
        /// `/dev/null`.
        case discard
        /// A descriptor of this process, which the child gets a copy of; it stays yours.
        case fileDescriptor(Int32)
    }

    /// How a child process ended.
    public struct Termination: Sendable, Hashable, CustomStringConvertible {
        /// The exit code (0 when the child was killed by a signal).
        public let exitCode: Int
        /// The signal that killed the child, if one did.
        public let signal: Signal?

        /// Creates a termination, for comparing with one a child reported.
        public init(exitCode: Int, signal: Signal?) {
            self.exitCode = exitCode
            self.signal = signal
        }

        /// True when the child exited with code 0 and was not killed.
        public var isSuccess: Bool { exitCode == 0 && signal == nil }

        public var description: String {
            if let signal { return "killed by \(signal)" }
            return "exit code \(exitCode)"
        }
    }

    let loop: Loop
    private let handle: UnsafeMutablePointer<uv_process_t>
    private let waiters: WaitQueue<Termination>
    private var isClosed = false
    /// The command, for messages.
    private let name: String
    /// The child's process ID.
    public let processID: Int32
    /// The pipe to the child's standard input, when spawned with `standardInput: .pipe`.
    public let standardInput: PipeStream?
    /// The pipe from the child's standard output, when spawned with `standardOutput: .pipe`.
    public let standardOutput: PipeStream?
    /// The pipe from the child's standard error, when spawned with `standardError: .pipe`.
    public let standardError: PipeStream?
    /// How the child ended; `nil` while it runs.
    public private(set) var termination: Termination?

    private init(
        loop: Loop, handle: UnsafeMutablePointer<uv_process_t>, name: String, pipes: [PipeStream?]
    ) {
        self.loop = loop
        self.handle = handle
        self.name = name
        processID = uv_process_get_pid(handle)
        waiters = WaitQueue(loop: loop)
        standardInput = pipes[0]
        standardOutput = pipes[1]
        standardError = pipes[2]
    }

    /// Starts `executable` with `arguments`.
    ///
    /// - Parameters:
    ///   - executable: a path, or a name looked up in `PATH` (the child's `PATH` when
    ///     `environment` is given, `/usr/bin:/bin` when that has none).
    ///   - arguments: the arguments after the program name.
    ///   - environment: the child's whole environment; `nil` inherits this process's.
    ///   - workingDirectory: where the child starts; `nil` keeps this process's.
    ///   - standardInput: what the child reads (default: inherited).
    ///   - standardOutput: where the child writes (default: inherited).
    ///   - standardError: where the child writes errors (default: inherited).
    /// - Throws: `UVError` naming the command when the child cannot start — `ENOENT` for a
    ///   missing program or working directory, `EACCES` for one that is not executable.
    public static func spawn(
        _ executable: String,
        arguments: [String] = [],
        environment: [String: String]? = nil,
        workingDirectory: String? = nil,
        standardInput: StandardIO = .inherit,
        standardOutput: StandardIO = .inherit,
        standardError: StandardIO = .inherit,
        on loop: Loop
    ) throws -> Subprocess {
        loop.assertOnLoop("spawn a process")
        let name = executable
        var pipes: [PipeStream?] = []
        var containers: [uv_stdio_container_t] = []
        do {
            for (index, slot) in [standardInput, standardOutput, standardError].enumerated() {
                var container = uv_stdio_container_t()
                var pipe: PipeStream?
                switch slot {
                case .inherit:
                    container.flags = UV_INHERIT_FD
                    container.data.fd = Int32(index)
                case .discard:
                    container.flags = UV_IGNORE
                case .fileDescriptor(let fd):
                    container.flags = UV_INHERIT_FD
                    container.data.fd = fd
                case .pipe:
                    let stream = try PipeStream(loop: loop, label: "\(["stdin", "stdout", "stderr"][index]) of \(name)")
                    pipe = stream
                    let direction = index == 0 ? UV_READABLE_PIPE : UV_WRITABLE_PIPE
                    container.flags = uv_stdio_flags(UV_CREATE_PIPE.rawValue | direction.rawValue)
                    container.data.stream = stream.stream
                }
                pipes.append(pipe)
                containers.append(container)
            }
        } catch {
            for pipe in pipes { pipe?.close() }
            throw error
        }

        let handle = allocateHandle(UV_PROCESS, as: uv_process_t.self)
        let status = withCStrings([executable] + arguments) { argv in
            withCStrings(environment.map { $0.map { "\($0.key)=\($0.value)" } }) { envp in
                containers.withUnsafeMutableBufferPointer { stdio in
                    var options = uv_process_options_t()
                    options.exit_cb = { handle, exitStatus, termSignal in
                        owner(of: handle!, as: Subprocess.self).exited(status: exitStatus, signal: termSignal)
                    }
                    options.file = argv?[0].map { UnsafePointer($0) }
                    options.args = argv
                    options.env = envp
                    options.stdio_count = Int32(stdio.count)
                    options.stdio = stdio.baseAddress
                    return withOptionalCString(workingDirectory) { cwd in
                        options.cwd = cwd
                        return uv_spawn(loop.uv, handle, &options)
                    }
                }
            }
        }
        if status < 0 {
            // uv_spawn initialised the handle even though it failed: it must still be closed.
            adopt(handle, owner: ClosedHandle())
            uvClose(handle)
            for pipe in pipes { pipe?.close() }
            throw UVError(code: status, operation: "spawn", target: name)
        }
        let process = Subprocess(loop: loop, handle: handle, name: name, pipes: pipes)
        adopt(handle, owner: process)
        return process
    }

    /// Waits until the child exits, and returns how it ended (at once if it already has).
    ///
    /// Throws `CancellationError` if the task is cancelled while waiting (the child keeps
    /// running: ``kill(_:)`` it if it should not), and `UVError` `ECANCELED` if the loop shuts
    /// down first. Several tasks may wait at once.
    public func wait() async throws -> Termination {
        loop.assertOnLoop("wait")
        if let termination { return termination }
        if isClosed { throw UVError(code: UVError.Code.cancelled, operation: "wait for", target: description) }
        return try await waiters.wait()
    }

    /// Sends `signal` to the child (default SIGTERM).
    ///
    /// Throws `UVError` `ESRCH` once the child has exited.
    public func kill(_ signal: Signal = .terminate) throws {
        loop.assertOnLoop("kill")
        guard termination == nil, !isClosed else {
            throw UVError(code: Int32(UV_ESRCH.rawValue), operation: "send \(signal) to", target: description)
        }
        try UVError.check(uv_process_kill(handle, signal.number), "send \(signal) to", description)
    }

    /// The exit callback: records how the child ended and wakes the waiters. The handle has
    /// nothing more to report, so it is closed here.
    private func exited(status: Int64, signal: Int32) {
        let ended = Termination(exitCode: Int(status), signal: signal == 0 ? nil : Signal(signal))
        termination = ended
        closeHandle()
        waiters.resumeAll(with: .success(ended))
    }

    /// `process 1234 (ls)`.
    public var description: String { "process \(processID) (\(name))" }

    var handleDescription: String { description }

    func closeHandle() {
        guard !isClosed else { return }
        isClosed = true
        if termination == nil {
            waiters.resumeAll(with: .failure(UVError(code: UVError.Code.cancelled, operation: "wait for", target: description)))
        }
        uvClose(handle)
    }
}

/// The owner of a handle that failed to start and is only being closed.
private final class ClosedHandle {}

/// Calls `body` with a NULL-terminated array of C strings (or NULL for `nil`), freed afterwards.
private func withCStrings<R>(_ strings: [String]?, _ body: (UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> R) -> R {
    guard let strings else { return body(nil) }
    let pointers = strings.map { strdup($0) } + [nil]
    defer { for pointer in pointers { free(pointer) } }
    var array = pointers
    return array.withUnsafeMutableBufferPointer { body($0.baseAddress) }
}

/// Calls `body` with a C string for `string`, or NULL.
private func withOptionalCString<R>(_ string: String?, _ body: (UnsafePointer<CChar>?) -> R) -> R {
    guard let string else { return body(nil) }
    return string.withCString { body($0) }
}
