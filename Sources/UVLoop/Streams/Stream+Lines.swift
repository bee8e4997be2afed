extension Stream {
    /// The stream's lines as an `AsyncSequence` of strings (terminators removed, invalid UTF-8
    /// replaced); it ends at end of stream and throws what ``readLine()`` throws.
    ///
    /// ```swift
    /// for try await line in client.lines { print("got", line) }
    /// ```
    public var lines: Lines { Lines(stream: self) }

    /// The stream's lines as raw ``Bytes``, terminators included, exactly as received.
    public var rawLines: RawLines { RawLines(stream: self) }

    /// An `AsyncSequence` of a stream's lines as strings.
    public struct Lines: AsyncSequence {
        public typealias Element = String
        public typealias Failure = any Error
        let stream: Stream

        public func makeAsyncIterator() -> Iterator { Iterator(stream: stream) }

        /// Reads the next line on each call.
        public struct Iterator: AsyncIteratorProtocol {
            let stream: Stream
            public mutating func next() async throws -> String? { try await stream.readLine() }
        }
    }

    /// An `AsyncSequence` of a stream's lines as bytes.
    public struct RawLines: AsyncSequence {
        public typealias Element = Bytes
        public typealias Failure = any Error
        let stream: Stream

        public func makeAsyncIterator() -> Iterator { Iterator(stream: stream) }

        /// Reads the next line on each call.
        public struct Iterator: AsyncIteratorProtocol {
            let stream: Stream
            public mutating func next() async throws -> Bytes? { try await stream.readLineBytes() }
        }
    }
}
