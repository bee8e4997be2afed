/// Lines for standard output and standard error from loop code: written in order, each
/// as soon as the loop gets to it, whatever the output is — a terminal, a pipe, a file,
/// `/dev/null` — and all of them written before ``Loop/run(_:)`` returns.
///
/// Swift's `print` goes through the C library's `stdout` buffer, which is a block buffer on a
/// pipe or a file: a line printed by a server under systemd or `| tee` shows up only kilobytes
/// later, and `fflush(stdout)` does not compile in Swift 6 (`stdout` is a global C variable).
/// A `ConsoleWriter` has no such buffer: each ``print(_:separator:terminator:)`` queues its bytes
/// (never waits) and the loop hands them to the kernel through libuv's file requests, one
/// request after another, so the lines keep their order. It holds no handle, so nothing is
/// reported open at shutdown, and the loop finishes the writes in flight before it returns.
///
/// Make one per loop and share it; do not mix it with `print` on the same output, whose
/// buffered bytes would come out of order, nor with another writer of the same descriptor
/// (``Stream/standardOutput(on:)``): each keeps its own order, not the other's. Code that wants
/// a ``ByteStream`` can write through ``output``, in one order with
/// ``print(_:separator:terminator:)``.
///
/// A write that fails (a closed pipe: `EPIPE`; a full disk) drops what is queued; ``flush()``
/// throws the error, and later prints are dropped.
///
/// ```swift
/// try Loop.run { loop in
///     let console = try ConsoleWriter(on: loop)
///     console.print("listening on port", port)
///     console.printError("warning: no config file")
/// }   // both lines are written before run returns
/// ```
public final class ConsoleWriter {
    /// Standard output, written through libuv's file requests.
    public let output: FileStream
    /// Standard error, written through libuv's file requests.
    public let errorOutput: FileStream

    /// A console on standard output and standard error (descriptors 1 and 2).
    ///
    /// Throws `UVError` `EBADF` if either is closed.
    public convenience init(on loop: Loop) throws {
        try self.init(outputDescriptor: 1, errorDescriptor: 2, on: loop)
    }

    /// A console writing to other descriptors, which stay open when it is done: a log file, one
    /// end of a pipe.
    public init(outputDescriptor: Int32, errorDescriptor: Int32, on loop: Loop) throws {
        output = try FileStream(fileDescriptor: outputDescriptor, label: "standard output", closesDescriptor: false, on: loop)
        errorOutput = try FileStream(fileDescriptor: errorDescriptor, label: "standard error", closesDescriptor: false, on: loop)
    }

    /// Writes `items` to standard output like Swift's `print`: their descriptions, separated by
    /// `separator`, then `terminator`. Never waits.
    public func print(_ items: Any..., separator: String = " ", terminator: String = "\n") {
        write(items, separator: separator, terminator: terminator, to: output)
    }

    /// Writes `items` to standard error; see ``print(_:separator:terminator:)``.
    public func printError(_ items: Any..., separator: String = " ", terminator: String = "\n") {
        write(items, separator: separator, terminator: terminator, to: errorOutput)
    }

    /// Waits until everything printed so far has been handed to the kernel.
    ///
    /// Throws the `UVError` of a write that failed, or `CancellationError`.
    public func flush() async throws {
        try await output.flush()
        try await errorOutput.flush()
    }

    private func write(_ items: [Any], separator: String, terminator: String, to stream: FileStream) {
        var text = ""
        for (index, item) in items.enumerated() {
            if index > 0 { text += separator }
            Swift.print(item, terminator: "", to: &text)
        }
        text += terminator
        // A failed write is reported by `flush`; printing has nobody to tell.
        try? stream.write(text)
    }
}
