import Glibc

/// A fresh directory under /tmp, removed with its (flat) contents by ``remove()``.
struct TemporaryDirectory: Sendable {
    let path: String

    init() throws {
        var template = Array("/tmp/uvloop-test-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw POSIXError(errno) }
        path = String(cString: made)
    }

    /// `name` inside the directory.
    func file(_ name: String) -> String { "\(path)/\(name)" }

    /// Removes the files and empty subdirectories inside, then the directory.
    func remove() {
        if let dir = opendir(path) {
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                if name == "." || name == ".." { continue }
                if unlink(file(name)) != 0 { rmdir(file(name)) }
            }
            closedir(dir)
        }
        rmdir(path)
    }
}

/// An `errno` value as an error, for test set-up that calls the C library directly.
struct POSIXError: Error {
    let code: Int32
    init(_ code: Int32) { self.code = code }
}

/// Runs `body` with a temporary directory that is removed afterwards.
func withTemporaryDirectory<T>(_ body: (TemporaryDirectory) async throws -> T) async throws -> T {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    return try await body(directory)
}

/// A `pipe(2)`, close-on-exec so that children spawned by other tests do not hold its ends open.
func makePipe() throws -> [Int32] {
    var fds: [Int32] = [0, 0]
    guard pipe(&fds) == 0 else { throw POSIXError(errno) }
    for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
    return fds
}
