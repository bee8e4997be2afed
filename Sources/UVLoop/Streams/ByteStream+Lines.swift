extension ByteStream {
    /// The stream's lines as an `AsyncSequence` of strings (terminators removed, invalid UTF-8
    /// replaced); it ends at end of stream and throws what ``readLine()`` throws. (A ``Stream``
    /// has its own ``Stream/lines``, which this leaves as it is.)
    ///
    /// ```swift
    /// let input = try Stream.standardInput(on: loop)     // any ByteStream: a pipe, a file, …
    /// for try await line in input.lines { console.print("you said", line) }
    /// ```
    public var lines: ByteStreamLines { ByteStreamLines(stream: self) }
}

/// An `AsyncSequence` of a ``ByteStream``'s lines as strings; see ``ByteStream/lines``.
public struct ByteStreamLines: AsyncSequence {
    public typealias Element = String
    public typealias Failure = any Error
    let stream: any ByteStream

    public func makeAsyncIterator() -> Iterator { Iterator(stream: stream) }

    /// Reads the next line on each call.
    public struct Iterator: AsyncIteratorProtocol {
        let stream: any ByteStream
        public mutating func next() async throws -> String? { try await stream.readLine() }
    }
}
