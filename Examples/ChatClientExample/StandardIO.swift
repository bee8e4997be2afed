import UVLoop

#if canImport(Glibc)
    import Glibc
#endif

/// Standard input as a stream (terminal, pipe, socket) or, for a regular file or `/dev/null`,
/// which libuv cannot poll, as a file read through the loop's thread pool.
enum StandardInput {
    case stream(any ByteStream)
    case file(File)

    static func open(on loop: Loop) async throws -> StandardInput {
        do {
            return .stream(try Stream.standardInput(on: loop))
        } catch let error as UVError where error.code == UVError.Code.invalidArgument {
            return .file(try await File.open("/dev/stdin", on: loop))
        }
    }

    /// The next bytes; `nil` at the end.
    func read() async throws -> Bytes? {
        switch self {
        case .stream(let stream): try await stream.read()
        case .file(let file): try await file.read()
        }
    }

    func close() async {
        switch self {
        case .stream(let stream): stream.close()
        case .file(let file): try? await file.close()
        }
    }
}

/// Standard output as a stream (terminal, pipe, socket) or, for a regular file, the descriptor
/// written directly (a regular file never makes a writer wait for a reader).
enum StandardOutput {
    case stream(any ByteStream)
    case file

    static func open(on loop: Loop) throws -> StandardOutput {
        do {
            return .stream(try Stream.standardOutput(on: loop))
        } catch let error as UVError where error.code == UVError.Code.invalidArgument {
            return .file
        }
    }

    func write(_ bytes: Bytes) async throws {
        switch self {
        case .stream(let stream):
            try stream.write(bytes)
            try await stream.drain()
        case .file:
            try bytes.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    // Force-unwrap: the buffer is not empty inside the loop.
                    let written = Glibc.write(1, buffer.baseAddress! + offset, buffer.count - offset)
                    if written < 0 {
                        if errno == EINTR { continue }
                        throw UVError(code: -errno, operation: "write to", target: "standard output")
                    }
                    offset += written
                }
            }
        }
    }

    func flush() async throws {
        if case .stream(let stream) = self { try await stream.flush() }
    }

    func close() {
        if case .stream(let stream) = self { stream.close() }
    }
}
