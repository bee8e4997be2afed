import CLibUV

/// An open file, read and written through libuv's thread pool so the loop never blocks on disk.
///
/// A `File` is a plain descriptor, not a loop handle: close it — the loop does not report a
/// file left open. `defer { file.close() }` closes it on every path (the synchronous
/// ``close()``); where a close error matters (a file just written, on a disk that reports write
/// errors late), also `try await file.close()` at the end, which reports it — the deferred
/// call then does nothing. For a whole file at once, see ``read(_:limit:on:)`` and
/// ``write(_:to:appending:permissions:on:)-(Bytes,_,_,_,_)``.
///
/// ```swift
/// let file = try await File.open("/tmp/log.txt", .writeOnly, creating: true, on: loop)
/// defer { file.close() }
/// try await file.write("hello\n")
/// try await file.close()
/// ```
public final class File {
    /// How ``open(_:_:creating:truncating:appending:exclusive:permissions:on:)`` opens a file.
    public enum Access: Sendable {
        /// Reading only.
        case readOnly
        /// Writing only.
        case writeOnly
        /// Reading and writing.
        case readWrite
    }

    let loop: Loop
    /// The file's descriptor, until ``close()``.
    public let descriptor: Int32
    /// The path it was opened with, for messages.
    public let path: String
    /// True once ``close()`` was called.
    public private(set) var isClosed = false

    private init(loop: Loop, descriptor: Int32, path: String) {
        self.loop = loop
        self.descriptor = descriptor
        self.path = path
    }

    /// Opens the file at `path`.
    ///
    /// - Parameters:
    ///   - creating: create the file if it does not exist, with `permissions`.
    ///   - truncating: empty the file first.
    ///   - appending: every write goes to the end of the file.
    ///   - exclusive: with `creating`, fail with `EEXIST` if the file exists.
    /// - Throws: `UVError` naming the path (`ENOENT`, `EACCES`, `EEXIST`, `EISDIR`), or
    ///   `CancellationError` (a file opened after its caller was cancelled is closed again).
    public static func open(
        _ path: String, _ access: Access = .readOnly, creating: Bool = false, truncating: Bool = false, appending: Bool = false,
        exclusive: Bool = false, permissions: Int = 0o644, on loop: Loop
    ) async throws -> File {
        var flags: Int32 =
            switch access {
            case .readOnly: UV_FS_O_RDONLY
            case .writeOnly: UV_FS_O_WRONLY
            case .readWrite: UV_FS_O_RDWR
            }
        if creating { flags |= UV_FS_O_CREAT }
        if truncating { flags |= UV_FS_O_TRUNC }
        if appending { flags |= UV_FS_O_APPEND }
        if exclusive { flags |= UV_FS_O_EXCL }
        let uv = loop.uv
        let descriptor = try await loop.fileRequest(
            "open", path,
            extract: { Int32(truncatingIfNeeded: uv_fs_get_result($0)) },
            abandon: { descriptor in
                var request = uv_fs_t()
                uv_fs_close(uv, &request, descriptor, nil)
                uv_fs_req_cleanup(&request)
            },
            start: { request, callback in uv_fs_open(uv, request, path, flags, Int32(permissions), callback) })
        return File(loop: loop, descriptor: descriptor, path: path)
    }

    /// Reads up to `count` bytes at `offset`, or at the current position when `offset` is nil;
    /// `nil` at the end of the file.
    public func read(upTo count: Int = 64 * 1024, at offset: Int? = nil) async throws -> Bytes? {
        try checkOpen("read")
        let storage = ByteStorage.make(capacity: max(count, 1))
        let uv = loop.uv
        let descriptor = descriptor
        let read = try await loop.fileRequest(
            "read", path, buffer: storage,
            extract: { Int(uv_fs_get_result($0)) },
            start: { request, callback in
                storage.withBase { base in
                    var buffer = uv_buf_init(base.assumingMemoryBound(to: CChar.self), UInt32(count))
                    return uv_fs_read(uv, request, descriptor, &buffer, 1, Int64(offset ?? -1), callback)
                }
            })
        return read == 0 ? nil : Bytes(storage: storage, offset: 0, count: read)
    }

    /// Reads from the current position to the end of the file.
    public func readToEnd() async throws -> Bytes {
        var chunks: [Bytes] = []
        while let chunk = try await read() { chunks.append(chunk) }
        return chunks.count == 1 ? chunks[0] : Bytes(chunks.joined())
    }

    /// Writes all of `bytes` at `offset`, or at the current position (the end, when opened
    /// with `appending`) when `offset` is nil.
    public func write(_ bytes: Bytes, at offset: Int? = nil) async throws {
        try checkOpen("write")
        let uv = loop.uv
        let descriptor = descriptor
        var done = 0
        while done < bytes.count {
            let rest = bytes.slice(done..<bytes.count)
            let position = offset.map { Int64($0 + done) } ?? -1
            done += try await loop.fileRequest(
                "write", path, buffer: rest.storage,
                extract: { Int(uv_fs_get_result($0)) },
                start: { request, callback in
                    rest.withUnsafeBytes { raw in
                        var buffer = uv_buf_init(
                            UnsafeMutableRawPointer(mutating: raw.baseAddress)?.assumingMemoryBound(to: CChar.self), UInt32(raw.count))
                        return uv_fs_write(uv, request, descriptor, &buffer, 1, position, callback)
                    }
                })
        }
    }

    /// Writes the UTF-8 bytes of `string`; see ``write(_:at:)-(Bytes,_)``.
    public func write(_ string: String, at offset: Int? = nil) async throws {
        try await write(Bytes(string), at: offset)
    }

    /// The file's size, kind, permissions and modification time.
    public func info() async throws -> FileInfo {
        try checkOpen("stat")
        let uv = loop.uv
        let descriptor = descriptor
        return try await loop.fileRequest(
            "stat", path, extract: { FileInfo(uv_fs_get_statbuf($0).pointee) },
            start: { request, callback in uv_fs_fstat(uv, request, descriptor, callback) })
    }

    /// Closes the file now, on the loop thread, for `defer`; an error is not reported (use the
    /// `async` ``close()`` for that). Calling it twice, or after the `async` one, is harmless.
    ///
    /// `close(2)` of a local file does not wait for the disk; a task still reading or writing
    /// the file gets `EBADF`.
    public func close() {
        guard !isClosed else { return }
        loop.assertOnLoop("close")
        isClosed = true
        var request = uv_fs_t()
        // Synchronous: no callback, so libuv runs close(2) here and returns.
        uv_fs_close(loop.uv, &request, descriptor, nil)
        uv_fs_req_cleanup(&request)
    }

    /// Closes the file. Throws `UVError` if the close failed (the descriptor is released even
    /// then); calling it twice is harmless.
    public func close() async throws {
        guard !isClosed else { return }
        isClosed = true
        let uv = loop.uv
        let descriptor = descriptor
        _ = try await loop.fileRequest(
            "close", path, extract: { _ in () },
            start: { request, callback in uv_fs_close(uv, request, descriptor, callback) })
    }

    private func checkOpen(_ operation: String) throws {
        if isClosed { throw UVError(code: UVError.Code.badFileDescriptor, operation: operation, target: "closed file \(path)") }
    }
}
