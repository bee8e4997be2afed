extension Subprocess {
    /// What a finished child wrote and how it ended; see
    /// ``run(_:input:environment:workingDirectory:outputLimit:on:)``.
    public struct RunResult: Sendable {
        /// The command that ran: the program and its arguments.
        public let command: [String]
        /// How the child ended.
        public let status: Termination
        /// Everything the child wrote to its standard output.
        public let standardOutput: Bytes
        /// Everything the child wrote to its standard error.
        public let standardError: Bytes

        /// The child's standard output if it succeeded (exit code 0, no signal); otherwise throws
        /// ``Subprocess/ExitError``, which names the command and quotes its standard error.
        public func output() throws(ExitError) -> Bytes {
            guard status.isSuccess else { throw ExitError(command: command, status: status, standardError: standardError) }
            return standardOutput
        }
    }

    /// Thrown by ``RunResult/output()`` and ``output(_:input:environment:workingDirectory:outputLimit:on:)``
    /// when the child did not succeed.
    public struct ExitError: Error, Sendable, CustomStringConvertible {
        /// The command that ran: the program and its arguments.
        public let command: [String]
        /// How the child ended.
        public let status: Termination
        /// What the child wrote to its standard error.
        public let standardError: Bytes

        /// Creates the error for `command`, which ended with `status`.
        public init(command: [String], status: Termination, standardError: Bytes) {
            self.command = command
            self.status = status
            self.standardError = standardError
        }

        /// `` `ls -l /nope` failed (exit code 2): ls: cannot access '/nope': No such file or directory ``
        /// — the last 500 bytes of standard error at most.
        public var description: String {
            let shown = command.map { $0.contains(" ") || $0.isEmpty ? "'\($0)'" : $0 }.joined(separator: " ")
            var message = "`\(shown)` failed (\(status))"
            let text = standardError.slice(max(0, standardError.count - 500)..<standardError.count).string
            let trimmed = text.trimmingCharacters(in: " \n\r\t")
            if !trimmed.isEmpty { message += ": " + trimmed }
            return message
        }
    }

    /// Runs `command` to its end and returns its status and everything it wrote, like Go's
    /// `Cmd.Output` or asyncio's `communicate()`.
    ///
    /// The child reads `input` (then end of file), or `/dev/null` when `input` is `nil`; its
    /// standard output and error are read at the same time, so neither pipe can fill up and stall
    /// it. A non-zero exit is not an error here: look at ``RunResult/status``, or call
    /// ``RunResult/output()`` (or ``output(_:input:environment:workingDirectory:outputLimit:on:)``),
    /// which throws then.
    ///
    /// - Parameters:
    ///   - command: the program (a path, or a name looked up in `PATH`) and its arguments.
    ///   - outputLimit: the most bytes kept from each of standard output and standard error
    ///     (default 16 MiB).
    /// - Throws: `UVError` naming the command when it cannot start (`ENOENT`, `EACCES`), or
    ///   `EINVAL` for an empty `command`; ``ByteLimitExceededError`` naming the pipe (`stdout of
    ///   ls`) when the child writes more than `outputLimit`; `CancellationError`. In each case
    ///   a child still running is killed (SIGKILL) and reaped by the loop.
    ///
    /// ```swift
    /// let result = try await Subprocess.run(["git", "status", "--short"], on: loop)
    /// if result.status.isSuccess { print(result.standardOutput.string) }
    /// ```
    public static func run(
        _ command: [String],
        input: Bytes? = nil,
        environment: [String: String]? = nil,
        workingDirectory: String? = nil,
        outputLimit: Int = 16 << 20,
        on loop: Loop
    ) async throws -> RunResult {
        guard let program = command.first else {
            throw UVError(code: UVError.Code.invalidArgument, operation: "run", target: "an empty command")
        }
        let child = try spawn(
            program, arguments: Array(command.dropFirst()), environment: environment, workingDirectory: workingDirectory,
            standardInput: input == nil ? .discard : .pipe, standardOutput: .pipe, standardError: .pipe, on: loop)
        var output = Bytes()
        var errors = Bytes()
        do {
            defer {
                child.standardInput?.close()
                child.standardOutput?.close()
                child.standardError?.close()
            }
            try await loop.withSpawnGroup { group in
                if let input, let pipe = child.standardInput {
                    group.spawn { try await feed(input, to: pipe) }
                }
                if let pipe = child.standardOutput {
                    group.spawn { output = try await pipe.readAll(limit: outputLimit) }
                }
                if let pipe = child.standardError {
                    group.spawn { errors = try await pipe.readAll(limit: outputLimit) }
                }
            }
            let status = try await child.wait()
            return RunResult(command: command, status: status, standardOutput: output, standardError: errors)
        } catch {
            await child.killAndReap()
            throw error
        }
    }

    /// Runs `command` and returns its standard output if it succeeded; throws
    /// ``ExitError`` (naming the command, quoting its standard error) if it did not.
    /// Otherwise as ``run(_:input:environment:workingDirectory:outputLimit:on:)``.
    ///
    /// ```swift
    /// let branch = try await Subprocess.output(["git", "branch", "--show-current"], on: loop).string
    /// ```
    public static func output(
        _ command: [String],
        input: Bytes? = nil,
        environment: [String: String]? = nil,
        workingDirectory: String? = nil,
        outputLimit: Int = 16 << 20,
        on loop: Loop
    ) async throws -> Bytes {
        try await run(
            command, input: input, environment: environment, workingDirectory: workingDirectory, outputLimit: outputLimit, on: loop
        ).output()
    }

    /// Writes `input` to the child's standard input, then end of file. A child that exits
    /// without reading it all is not an error.
    private static func feed(_ input: Bytes, to pipe: PipeStream) async throws {
        do {
            try pipe.write(input)
            try await pipe.closeWrite()
        } catch let error as UVError where error.isConnectionReset {
            return
        }
    }

    /// Kills a child that is still running and waits until it is gone, so that its handle is
    /// closed; the wait is not cut short by the caller's cancellation (SIGKILL cannot be
    /// ignored, so it is brief). Does nothing once the child has ended.
    private func killAndReap() async {
        guard termination == nil else { return }
        try? kill(.kill)
        // Safe: the task runs on this loop's executor only, like every user of the process.
        let this = UncheckedBox(self)
        await Task(executorPreference: loop.executor) { _ = try? await this.value.wait() }.value
    }
}

extension String {
    /// The string without leading and trailing characters from `set`.
    fileprivate func trimmingCharacters(in set: String) -> String {
        let characters = Set(set)
        guard let first = firstIndex(where: { !characters.contains($0) }),
            let last = lastIndex(where: { !characters.contains($0) })
        else { return "" }
        return String(self[first...last])
    }
}
