import Testing
import UVLoop
import UVLoopTestSupport

@Suite("Subprocess.run and output")
struct SubprocessRunTests {
    @Test("collects standard output, standard error and the status; a failure is not thrown by run")
    func collects() async throws {
        let result = try await onLoop { loop in
            try await Subprocess.run(["/bin/sh", "-c", "echo out; echo err >&2; exit 3"], on: loop)
        }
        #expect(result.status.exitCode == 3)
        #expect(result.standardOutput.string == "out\n")
        #expect(result.standardError.string == "err\n")
        #expect(result.command == ["/bin/sh", "-c", "echo out; echo err >&2; exit 3"])
    }

    @Test("output() throws an ExitError naming the command, its status and its standard error")
    func exitError() async throws {
        let message = try await onLoop { loop -> String in
            do {
                _ = try await Subprocess.output(["sh", "-c", "echo 'no such thing' >&2; exit 2"], on: loop)
                return "succeeded"
            } catch let error as Subprocess.ExitError {
                #expect(error.status.exitCode == 2)
                return error.description
            }
        }
        #expect(message == "`sh -c 'echo 'no such thing' >&2; exit 2'` failed (exit code 2): no such thing")
    }

    @Test("output() returns standard output when the command succeeds")
    func outputSucceeds() async throws {
        let text = try await onLoop { loop in
            try await Subprocess.output(["printf", "%s-%s", "a", "b"], on: loop).string
        }
        #expect(text == "a-b")
    }

    @Test("feeds input while reading output: 256 KiB through cat, four pipe buffers each way")
    func inputAndOutputTogether() async throws {
        let (sent, received) = try await onLoop { loop -> (Bytes, Bytes) in
            let input = Bytes(String(repeating: "0123456789abcdef\n", count: 16 * 1024))
            let result = try await Subprocess.run(["cat"], input: input, on: loop)
            return (input, result.standardOutput)
        }
        #expect(sent.count == 256 * 1024 + 16 * 1024)
        #expect(received == sent)
    }

    @Test("output over the limit throws ByteLimitExceededError naming the pipe, and the child is killed and reaped")
    func outputLimit() async throws {
        let error = try await onLoop { loop -> ByteLimitExceededError? in
            do {
                // head blocks on the full pipe once the reader stops: killed, not finished.
                _ = try await Subprocess.run(["head", "-c", "1000000", "/dev/zero"], outputLimit: 10_000, on: loop)
                return nil
            } catch let error as ByteLimitExceededError {
                return error
            }
        }
        let thrown = try #require(error)
        #expect(thrown.limit == 10_000)
        #expect(thrown.source == "stdout of head")
    }

    @Test("cancelling run kills the child and throws CancellationError promptly")
    func cancellation() async throws {
        let (cancelled, elapsed) = try await onLoop { loop -> (Bool, Duration) in
            let start = ContinuousClock.now
            let task = loop.spawnTask { try await Subprocess.run(["sleep", "30"], on: loop) }
            try await loop.sleep(for: .milliseconds(50))
            task.cancel()
            do {
                _ = try await task.value
                return (false, ContinuousClock.now - start)
            } catch is CancellationError {
                return (true, ContinuousClock.now - start)
            }
        }
        #expect(cancelled)
        #expect(elapsed < .seconds(10))
    }

    @Test("an empty command is EINVAL; a missing program is the spawn error naming it")
    func badCommands() async throws {
        let (empty, missing) = try await onLoop { loop -> (Int32?, String) in
            var empty: Int32?
            do { _ = try await Subprocess.run([], on: loop) } catch let error as UVError { empty = error.code }
            var missing = ""
            do { _ = try await Subprocess.run(["/no/such/program"], on: loop) } catch let error as UVError { missing = error.description }
            return (empty, missing)
        }
        #expect(empty == UVError.Code.invalidArgument)
        #expect(missing.contains("/no/such/program"))
    }
}
