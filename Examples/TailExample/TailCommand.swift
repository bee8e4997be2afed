import ArgumentParser
import UVLoop

#if canImport(Glibc)
    import Glibc
#endif

/// `swift run TailExample -n 10 /var/log/syslog`: `tail -f` for one file. Shows reading a
/// `File` at offsets through the thread pool, and `loop.watch(path:)` to wake up when the file
/// changes instead of polling. Prints the whole file, or its last `-n` lines, then each new
/// line as it is appended. A file truncated (shorter than what was read) is followed from its
/// new end.
@main
struct TailCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "TailExample",
        abstract: "Prints a file, then the lines appended to it, like tail -f."
    )

    @Option(name: [.customShort("n"), .customLong("lines")], help: "Print only the last N lines first (default: the whole file).")
    var lines: Int?

    @Argument(help: "The file to follow.")
    var path: String

    func run() throws {
        let path = path
        let lines = lines
        try Loop.run { loop in
            let shutdown = try loop.onShutdownSignal { _ in loop.stop() }
            defer { shutdown.close() }
            let file = try await File.open(path, on: loop)
            do {
                // Watching starts before the first read, so no append between the two is missed.
                var changes = loop.watch(path: path).makeAsyncIterator()
                var offset = 0
                let existing = try await readAll(file, from: &offset)
                printBytes(lastLines(of: existing, count: lines))
                while try await changes.next() != nil {
                    if try await file.info().size < offset { offset = 0 }
                    printBytes(try await readAll(file, from: &offset))
                }
            } catch is CancellationError {
                // SIGINT or SIGTERM stopped the loop: a normal way to end `tail -f`.
            }
            try? await file.close()
        }
    }
}

/// Reads `file` from `offset` to its current end, advancing `offset`.
func readAll(_ file: File, from offset: inout Int) async throws -> [UInt8] {
    var bytes: [UInt8] = []
    while let chunk = try await file.read(at: offset) {
        bytes += chunk.array
        offset += chunk.count
    }
    return bytes
}

/// The last `count` lines of `bytes` (all of it when `count` is nil); a final line without a
/// newline counts as a line.
func lastLines(of bytes: [UInt8], count: Int?) -> [UInt8] {
    guard let count else { return bytes }
    guard count > 0 else { return [] }
    var seen = 0
    var index = bytes.endIndex
    if bytes.last == UInt8(ascii: "\n") { index -= 1 }
    while index > bytes.startIndex {
        if bytes[index - 1] == UInt8(ascii: "\n") {
            seen += 1
            if seen == count { return Array(bytes[index...]) }
        }
        index -= 1
    }
    return bytes
}

/// Writes `bytes` to standard output at once.
func printBytes(_ bytes: [UInt8]) {
    guard !bytes.isEmpty else { return }
    var written = 0
    bytes.withUnsafeBufferPointer { buffer in
        while written < buffer.count {
            // Force-unwrap: the buffer is not empty (guarded above).
            let count = Glibc.write(1, buffer.baseAddress! + written, buffer.count - written)
            if count <= 0 { return }  // a closed standard output ends the output
            written += count
        }
    }
}
