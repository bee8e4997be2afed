import Glibc
import Testing
import UVLoop
import UVLoopTestSupport

/// Reads `stream` to its end and closes it.
func readAll(_ stream: Stream?) async throws -> [String] {
    guard let stream else { return [] }
    defer { stream.close() }
    var lines: [String] = []
    for try await line in stream.lines { lines.append(line) }
    return lines
}

@Suite("Subprocess")
struct SubprocessTests {
    @Test("passes arguments and pipes the child's output")
    func argumentsAndOutput() async throws {
        let (lines, status) = try await onLoop { loop -> ([String], Subprocess.Termination) in
            let child = try Subprocess.spawn(
                "/bin/sh", arguments: ["-c", "printf '%s\\n' \"$@\"", "sh", "one two", "three"], standardOutput: .pipe, on: loop)
            let lines = try await readAll(child.standardOutput)
            return (lines, try await child.wait())
        }
        #expect(lines == ["one two", "three"])
        #expect(status.isSuccess)
        #expect(status == Subprocess.Termination(exitCode: 0, signal: nil))
    }

    @Test("reports a non-zero exit code")
    func exitCode() async throws {
        let status = try await onLoop { loop in
            try await Subprocess.spawn("sh", arguments: ["-c", "exit 3"], on: loop).wait()
        }
        #expect(status.exitCode == 3)
        #expect(status.signal == nil)
        #expect(!status.isSuccess)
        #expect(status.description == "exit code 3")
    }

    @Test("sets the environment and working directory")
    func environmentAndDirectory() async throws {
        let lines = try await onLoop { loop -> [String] in
            try await withTemporaryDirectory { dir in
                let child = try Subprocess.spawn(
                    "sh", arguments: ["-c", "echo \"$GREETING\"; echo \"${HOME:-unset}\"; pwd"],
                    environment: ["GREETING": "hello", "PATH": "/usr/bin:/bin"], workingDirectory: dir.path,
                    standardOutput: .pipe, on: loop)
                let lines = try await readAll(child.standardOutput)
                _ = try await child.wait()
                return lines + [dir.path]
            }
        }
        #expect(lines.count == 4)
        #expect(Array(lines.prefix(2)) == ["hello", "unset"])
        #expect(lines[2] == lines[3])
    }

    @Test("feeds the child's input; closing it gives the child end of file")
    func inputPipe() async throws {
        let (lines, status) = try await onLoop { loop -> ([String], Subprocess.Termination) in
            let child = try Subprocess.spawn("cat", standardInput: .pipe, standardOutput: .pipe, on: loop)
            let input = try #require(child.standardInput)
            try input.write("first\nsecond\n")
            try await input.closeWrite()
            input.close()
            let lines = try await readAll(child.standardOutput)
            return (lines, try await child.wait())
        }
        #expect(lines == ["first", "second"])
        #expect(status.isSuccess)
    }

    @Test("keeps standard output and standard error apart; .discard drops output")
    func separateStreams() async throws {
        let result = try await onLoop { loop -> ([String], [String], Bool) in
            let child = try Subprocess.spawn(
                "sh", arguments: ["-c", "echo out; echo err >&2"], standardOutput: .pipe, standardError: .pipe, on: loop)
            let output = try await readAll(child.standardOutput)
            let errors = try await readAll(child.standardError)
            _ = try await child.wait()
            let quiet = try Subprocess.spawn("sh", arguments: ["-c", "echo dropped"], standardOutput: .discard, on: loop)
            let quietStatus = try await quiet.wait()
            return (output, errors, quiet.standardOutput == nil && quietStatus.isSuccess)
        }
        #expect(result.0 == ["out"])
        #expect(result.1 == ["err"])
        #expect(result.2)
    }

    @Test("hands the child a descriptor of ours for its output")
    func fileDescriptorOutput() async throws {
        let lines = try await onLoop { loop -> [String] in
            let fds = try makePipe()
            let child = try Subprocess.spawn("echo", arguments: ["via fd"], standardOutput: .fileDescriptor(fds[1]), on: loop)
            // The child has its copy: close ours so the reader sees end of file when it exits.
            close(fds[1])
            _ = try await child.wait()
            return try await readAll(try PipeStream(fileDescriptor: fds[0], on: loop))
        }
        #expect(lines == ["via fd"])
    }

    @Test("kill ends the child with the signal; killing it again says ESRCH")
    func kill() async throws {
        let result = try await onLoop { loop -> (Subprocess.Termination, Int32) in
            let child = try Subprocess.spawn("sleep", arguments: ["30"], on: loop)
            #expect(child.processID > 0)
            #expect(child.termination == nil)
            try child.kill()
            let status = try await child.wait()
            #expect(child.termination == status)
            var code: Int32 = 0
            do { try child.kill(.kill) } catch let error as UVError { code = error.code }
            return (status, code)
        }
        #expect(result.0.signal == .terminate)
        #expect(result.0.exitCode == 0)
        #expect(result.0.description == "killed by SIGTERM")
        #expect(result.1 == -ESRCH)
    }

    @Test("a cancelled wait throws CancellationError and leaves the child running")
    func cancelledWait() async throws {
        let result = try await onLoop { loop -> (String, Subprocess.Termination) in
            let child = try Subprocess.spawn("sleep", arguments: ["30"], on: loop)
            var outcome = "returned"
            let waiter = loop.spawn {
                do { _ = try await child.wait() } catch is CancellationError { outcome = "cancelled" }
            }
            await Task.yield()
            waiter.cancel()
            await waiter.value
            #expect(child.termination == nil)
            try child.kill(.kill)
            return (outcome, try await child.wait())
        }
        #expect(result.0 == "cancelled")
        #expect(result.1.signal == .kill)
    }

    @Test("a program or directory that does not exist fails to spawn with ENOENT, closing its pipes")
    func spawnFailure() async throws {
        let errors = try await onLoop { loop -> [UVError] in
            var errors: [UVError] = []
            do {
                _ = try Subprocess.spawn("/no/such/program", standardInput: .pipe, standardOutput: .pipe, on: loop)
            } catch let error as UVError {
                errors.append(error)
            }
            do {
                _ = try Subprocess.spawn("true", workingDirectory: "/no/such/dir", on: loop)
            } catch let error as UVError {
                errors.append(error)
            }
            return errors
        }
        #expect(errors.map(\.code) == [-ENOENT, -ENOENT])
        #expect(errors.first?.description == "spawn /no/such/program failed: ENOENT (no such file or directory)")
    }
}
