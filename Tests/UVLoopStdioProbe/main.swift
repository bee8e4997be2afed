// A child process for the standard-stream tests: echoes each line of standard input to standard
// output as `echo: <line>`, then reports on standard error, through whatever descriptors it was
// given (terminal, pipe, socket, file, /dev/null).
import UVLoop

try Loop.run { loop in
    let input = try Stream.standardInput(on: loop)
    let output = try Stream.standardOutput(on: loop)
    defer {
        input.close()
        output.close()
    }
    let console = try ConsoleWriter(on: loop)
    var count = 0
    while let line = try await input.readLine() {
        try output.write("echo: \(line)\n")
        count += 1
    }
    try await output.flush()
    console.printError("read \(count) lines from \(type(of: input)), wrote to \(type(of: output))")
}
