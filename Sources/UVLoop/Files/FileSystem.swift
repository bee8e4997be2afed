import CLibUV

/// What `stat` reports about a file.
public struct FileInfo: Sendable, Hashable {
    /// The kind of a file.
    public enum Kind: Sendable, Hashable {
        /// A regular file.
        case file
        /// A directory.
        case directory
        /// A symbolic link (``FileSystem/info(_:)`` follows links; directory listings do not).
        case symbolicLink
        /// A pipe, socket, device or anything else.
        case other
    }

    /// The size in bytes.
    public let size: Int
    /// The kind of file.
    public let kind: Kind
    /// The permission bits, such as `0o644`.
    public let permissions: Int
    /// The last modification, in seconds since 1970 (with nanoseconds).
    public let modificationTime: Double

    init(_ stat: uv_stat_t) {
        size = Int(stat.st_size)
        let type = Int32(stat.st_mode) & Int32(S_IFMT)
        kind =
            switch type {
            case Int32(S_IFREG): .file
            case Int32(S_IFDIR): .directory
            case Int32(S_IFLNK): .symbolicLink
            default: .other
            }
        permissions = Int(stat.st_mode) & 0o7777
        modificationTime = Double(stat.st_mtim.tv_sec) + Double(stat.st_mtim.tv_nsec) / 1e9
    }
}

/// One entry of a directory listing.
public struct DirectoryEntry: Sendable, Hashable {
    /// The entry's name (not its path).
    public let name: String
    /// What it is, as the directory reports it (links are not followed).
    public let kind: FileInfo.Kind

    /// Creates an entry, for comparing with listed ones.
    public init(name: String, kind: FileInfo.Kind) {
        self.name = name
        self.kind = kind
    }
}

/// File-system operations on a loop, each a request on libuv's thread pool: the loop keeps
/// running while the disk works.
///
/// Every call throws `UVError` naming the path (`ENOENT`, `EEXIST`, `ENOTEMPTY`, `EACCES`) or
/// `CancellationError`. Cancellation removes a request that has not started; one that has
/// started completes (a rename or removal then happens even though the call threw).
///
/// ```swift
/// try await loop.fileSystem.makeDirectory("/tmp/out")
/// for entry in try await loop.fileSystem.contentsOfDirectory("/tmp/out") { print(entry.name) }
/// ```
public struct FileSystem {
    let loop: Loop

    /// Size, kind, permissions and modification time of `path`, following symbolic links.
    public func info(_ path: String) async throws -> FileInfo {
        let uv = loop.uv
        return try await loop.fileRequest(
            "stat", path, extract: { FileInfo(uv_fs_get_statbuf($0).pointee) },
            start: { request, callback in uv_fs_stat(uv, request, path, callback) })
    }

    /// True when something exists at `path` (following symbolic links).
    public func exists(_ path: String) async throws -> Bool {
        do {
            _ = try await info(path)
            return true
        } catch let error as UVError where error.code == UVError.Code.notFound {
            return false
        }
    }

    /// Renames (moves) `source` to `destination`, replacing a file already there.
    public func rename(_ source: String, to destination: String) async throws {
        let uv = loop.uv
        try await loop.fileRequest(
            "rename", "\(source) to \(destination)", extract: { _ in () },
            start: { request, callback in uv_fs_rename(uv, request, source, destination, callback) })
    }

    /// Removes the file (or link, or socket) at `path`; not a directory.
    public func removeFile(_ path: String) async throws {
        let uv = loop.uv
        try await loop.fileRequest(
            "remove", path, extract: { _ in () },
            start: { request, callback in uv_fs_unlink(uv, request, path, callback) })
    }

    /// Creates the directory `path` (its parent must exist).
    public func makeDirectory(_ path: String, permissions: Int = 0o755) async throws {
        let uv = loop.uv
        try await loop.fileRequest(
            "make directory", path, extract: { _ in () },
            start: { request, callback in uv_fs_mkdir(uv, request, path, Int32(permissions), callback) })
    }

    /// Removes the empty directory `path`.
    public func removeDirectory(_ path: String) async throws {
        let uv = loop.uv
        try await loop.fileRequest(
            "remove directory", path, extract: { _ in () },
            start: { request, callback in uv_fs_rmdir(uv, request, path, callback) })
    }

    /// The entries of the directory `path`, without `.` and `..`, sorted by name.
    public func contentsOfDirectory(_ path: String) async throws -> [DirectoryEntry] {
        let uv = loop.uv
        return try await loop.fileRequest(
            "list directory", path,
            extract: { request in
                var entries: [DirectoryEntry] = []
                var entry = uv_dirent_t()
                while uv_fs_scandir_next(request, &entry) == 0 {
                    let kind: FileInfo.Kind =
                        switch entry.type {
                        case UV_DIRENT_FILE: .file
                        case UV_DIRENT_DIR: .directory
                        case UV_DIRENT_LINK: .symbolicLink
                        default: .other
                        }
                    entries.append(DirectoryEntry(name: String(cString: entry.name), kind: kind))
                }
                return entries.sorted { $0.name < $1.name }
            },
            start: { request, callback in uv_fs_scandir(uv, request, path, 0, callback) })
    }
}

extension Loop {
    /// File-system operations that run on libuv's thread pool; see ``FileSystem``.
    public var fileSystem: FileSystem { FileSystem(loop: self) }
}
