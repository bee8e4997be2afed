import Glibc
import Testing
import UVLoop
import UVLoopTestSupport

@Suite("ConsoleWriter")
struct ConsoleWriterTests {
    @Test("lines printed to a file are all written, in order, by the time the loop returns — no flush")
    func flushedAtExit() async throws {
        let (output, errors) = try await withTemporaryDirectory { dir -> (String, String) in
            let out = try openDescriptor(dir.file("out"), O_WRONLY | O_CREAT | O_TRUNC)
            let err = try openDescriptor(dir.file("err"), O_WRONLY | O_CREAT | O_TRUNC)
            defer {
                _ = Glibc.close(out)
                _ = Glibc.close(err)
            }
            try await onLoop { loop in
                let console = try ConsoleWriter(outputDescriptor: out, errorDescriptor: err, on: loop)
                for index in 1...500 { console.print("line", index) }
                console.printError("warning:", 1, 2.5, separator: " | ", terminator: "!\n")
            }
            return (try contents(of: dir.file("out")), try contents(of: dir.file("err")))
        }
        #expect(output == (1...500).map { "line \($0)\n" }.joined())
        #expect(errors == "warning: | 1 | 2.5!\n")
    }

    @Test("a line printed to a pipe reaches the reader at once, not when a buffer fills")
    func lineReachesPipeAtOnce() async throws {
        let fds = try makePipe()
        let line = try await onLoop { loop -> String? in
            let reader = try PipeStream(fileDescriptor: fds[0], on: loop)
            defer {
                reader.close()
                _ = Glibc.close(fds[1])
            }
            let console = try ConsoleWriter(outputDescriptor: fds[1], errorDescriptor: fds[1], on: loop)
            console.print("ready")
            return try await loop.withTimeout(.seconds(10)) { try await reader.readLine() }
        }
        #expect(line == "ready")
    }

    @Test("a write that fails is thrown by flush, naming the output")
    func failedWriteIsReported() async throws {
        let fds = try makePipe()
        _ = Glibc.close(fds[0])  // no reader: writing gets EPIPE (SIGPIPE is ignored by the loop)
        defer { _ = Glibc.close(fds[1]) }
        let message = try await onLoop { loop -> String in
            let console = try ConsoleWriter(outputDescriptor: fds[1], errorDescriptor: fds[1], on: loop)
            console.print("nobody reads this")
            do {
                try await console.flush()
                return "flushed"
            } catch let error as UVError {
                return error.description
            }
        }
        #expect(message.contains("standard output"))
        #expect(message.contains("EPIPE"))
    }
}
