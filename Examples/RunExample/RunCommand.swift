import ArgumentParser
import UVLoop

#if canImport(Glibc)
    import Glibc
#endif

/// `swift run RunExample -- sh -c 'echo hi; echo oops >&2; exit 3'`: runs a command and
/// relays its output line by line, `out: hi` and `err: oops`, then exits with its status.
/// Shows `Subprocess.spawn` with piped standard output and error, reading both pipes at once
/// in a spawn group, and `wait()` for the child's `Termination`.
@main
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "RunExample",
        abstract: "Runs a command, prefixing its output lines with out: and err:, and exits with its status."
    )

    @Argument(parsing: .captureForPassthrough, help: "The command to run and its arguments.")
    var command: [String]

    func validate() throws {
        if command.drop(while: { $0 == "--" }).isEmpty { throw ValidationError("Give a command to run.") }
    }

    func run() throws {
        var command = command
        if command.first == "--" { command.removeFirst() }
        let executable = command[0]
        let arguments = Array(command.dropFirst())
        let termination = try Loop.run { loop -> Subprocess.Termination in
            let child = try Subprocess.spawn(
                executable, arguments: arguments, standardOutput: .pipe, standardError: .pipe, on: loop)
            try await loop.withSpawnGroup { group in
                // Force-unwraps: both were requested as `.pipe`, so both exist.
                group.spawn { try await relayLines(from: child.standardOutput!, prefix: "out: ") }
                group.spawn { try await relayLines(from: child.standardError!, prefix: "err: ") }
            }
            return try await child.wait()
        }
        if let signal = termination.signal { throw ExitCode(128 + signal.number) }
        throw ExitCode(Int32(truncatingIfNeeded: termination.exitCode))
    }
}

/// Prints each line of `stream` with `prefix` until the child closes it.
func relayLines(from stream: PipeStream, prefix: String) async throws {
    defer { stream.close() }
    for try await line in stream.lines {
        print(prefix + line)
        // Flushed per line so lines from both pipes interleave in the order they arrived.
        fflush(nil)
    }
}
