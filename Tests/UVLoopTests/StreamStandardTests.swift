import Glibc
import Testing
import UVLoop
import UVLoopTestSupport

/// The path of the `UVLoopStdioProbe` executable, built beside this test binary.
func stdioProbePath() throws -> String {
    var buffer = [CChar](repeating: 0, count: 4096)
    let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    guard count > 0 else { throw POSIXError(errno) }
    let executable = String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    // On Linux the test binary is `.build/<configuration>/<Package>PackageTests.xctest`, a file.
    let directory = executable[..<(executable.lastIndex(of: "/") ?? executable.startIndex)]
    let probe = "\(directory)/UVLoopStdioProbe"
    guard access(probe, X_OK) == 0 else { throw POSIXError(errno) }
    return probe
}

@Suite("Standard input and output of a real child, whatever they are")
struct StreamStandardTests {
    @Test("`prog < file > file 2> file`: standard input and output are FileStreams")
    func redirectedToFiles() async throws {
        let probe = try stdioProbePath()
        let (result, output, errors) = try await withTemporaryDirectory { dir in
            try await onLoop { loop -> (Subprocess.RunResult, String, String) in
                try await File.write("alpha\nbeta\ngamma", to: dir.file("in"), on: loop)
                let result = try await Subprocess.run(
                    ["/bin/sh", "-c", "\"$0\" < in > out 2> err", probe], workingDirectory: dir.path, on: loop)
                return (
                    result, try await File.read(dir.file("out"), on: loop).string, try await File.read(dir.file("err"), on: loop).string
                )
            }
        }
        #expect(result.status.isSuccess)
        #expect(output == "echo: alpha\necho: beta\necho: gamma\n")
        #expect(errors == "read 3 lines from FileStream, wrote to FileStream\n")
    }

    @Test("`prog < /dev/null > /dev/null` (nohup, systemd): end of input at once, output swallowed")
    func devNull() async throws {
        let probe = try stdioProbePath()
        let result = try await onLoop { loop in
            try await Subprocess.run(["/bin/sh", "-c", "\"$0\" < /dev/null > /dev/null", probe], on: loop)
        }
        #expect(result.status.isSuccess)
        #expect(result.standardError.string == "read 0 lines from FileStream, wrote to FileStream\n")
    }

    @Test("`prog < file >> log`, twice: appended output lands after what the log held")
    func appendedLog() async throws {
        let probe = try stdioProbePath()
        let log = try await withTemporaryDirectory { dir in
            try await onLoop { loop -> String in
                try await File.write("one\n", to: dir.file("in"), on: loop)
                for _ in 0..<2 {
                    let result = try await Subprocess.run(
                        ["/bin/sh", "-c", "\"$0\" < in >> log 2>&1", probe], workingDirectory: dir.path, on: loop)
                    #expect(result.status.isSuccess)
                }
                return try await File.read(dir.file("log"), on: loop).string
            }
        }
        let once = "echo: one\nread 1 lines from FileStream, wrote to FileStream\n"
        #expect(log == once + once)
    }

    @Test("pipes on both sides are still PipeStreams")
    func pipes() async throws {
        let probe = try stdioProbePath()
        let result = try await onLoop { loop in
            try await Subprocess.run([probe], input: "a\nb\n", on: loop)
        }
        #expect(result.status.isSuccess)
        #expect(result.standardOutput.string == "echo: a\necho: b\n")
        #expect(result.standardError.string == "read 2 lines from PipeStream, wrote to PipeStream\n")
    }
}
