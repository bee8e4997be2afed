import CLibUV

/// One change reported by ``Loop/watch(path:)``.
public struct FileChange: Sendable, Hashable, CustomStringConvertible {
    /// The watched path, as given to ``Loop/watch(path:)``.
    public let path: String
    /// The name of the entry that changed, relative to `path` when it is a directory (for a
    /// watched file, usually its own base name); nil when the platform does not say.
    public let filename: String?
    /// The entry was created, removed or renamed (libuv's `UV_RENAME`).
    public let isRename: Bool
    /// The entry's contents or attributes changed (libuv's `UV_CHANGE`).
    public let isChange: Bool

    /// Creates a change event.
    public init(path: String, filename: String?, isRename: Bool, isChange: Bool) {
        self.path = path
        self.filename = filename
        self.isRename = isRename
        self.isChange = isChange
    }

    public var description: String {
        let kinds = [isRename ? "rename" : nil, isChange ? "change" : nil].compactMap { $0 }.joined(separator: "+")
        return "\(kinds) \(filename ?? path)"
    }
}

extension Loop {
    /// Changes to the file or directory at `path`, as an `AsyncSequence` (libuv's `uv_fs_event`,
    /// inotify on Linux).
    ///
    /// The watch starts when iteration begins and is closed when it ends (`break`, an error,
    /// cancellation). The first `next()` throws `UVError` (`ENOENT` for a missing path) if the
    /// watch could not be started. A directory reports changes to its direct entries, not
    /// recursively. Up to 1024 changes are held for a slow consumer; more are dropped, so treat
    /// an event as "look again", not as an exact log. Cancelling the task ends the iteration
    /// with `CancellationError` at once.
    ///
    /// ```swift
    /// for try await change in loop.watch(path: "/etc/myapp") {
    ///     if change.filename == "config.json" { try await config.reload() }
    /// }
    /// ```
    public func watch(path: String) -> FileChanges {
        FileChanges(loop: self, path: path)
    }
}

/// The changes to one path; see ``Loop/watch(path:)``.
public struct FileChanges: AsyncSequence {
    public typealias Element = FileChange
    public typealias Failure = any Error
    let loop: Loop
    let path: String

    /// Starts watching.
    public func makeAsyncIterator() -> Iterator { Iterator(loop: loop, path: path) }

    /// Waits for the next change on each call; closes the watch when released.
    public struct Iterator: AsyncIteratorProtocol {
        private let buffer: EventBuffer<Result<FileChange, UVError>>
        private let closer: ClosesOnRelease
        private var failure: UVError?

        init(loop: Loop, path: String) {
            loop.assertOnLoop("watch")
            let buffer = EventBuffer<Result<FileChange, UVError>>(loop: loop, limit: 1024, keepsLatest: false)
            var watcher: FileWatcher?
            do {
                watcher = try FileWatcher(loop: loop, path: path) { buffer.push($0) }
            } catch {
                failure = error
            }
            self.buffer = buffer
            closer = ClosesOnRelease(loop: loop) { watcher?.close() }
        }

        /// The next change; throws `UVError` if the watch failed, `CancellationError` if the
        /// task is cancelled.
        public mutating func next() async throws -> FileChange? {
            if let failure { throw failure }
            switch try await buffer.next() {
            case .success(let change):
                return change
            case .failure(let error):
                failure = error
                throw error
            }
        }
    }
}

/// One `uv_fs_event_t` watching one path.
final class FileWatcher: HandleOwner {
    private let handle: UnsafeMutablePointer<uv_fs_event_t>
    let path: String
    private var onEvent: (Result<FileChange, UVError>) -> Void

    init(loop: Loop, path: String, onEvent: @escaping (Result<FileChange, UVError>) -> Void) throws(UVError) {
        self.path = path
        self.onEvent = onEvent
        handle = allocateHandle(UV_FS_EVENT, as: uv_fs_event_t.self)
        uv_fs_event_init(loop.uv, handle)
        adopt(handle, owner: self)
        let status = uv_fs_event_start(
            handle,
            { handle, filename, events, status in
                let watcher = owner(of: handle!, as: FileWatcher.self)
                if status < 0 {
                    watcher.onEvent(.failure(UVError(code: status, operation: "watch", target: watcher.path)))
                    return
                }
                let change = FileChange(
                    path: watcher.path,
                    filename: filename.map { String(cString: $0) },
                    isRename: events & Int32(UV_RENAME.rawValue) != 0,
                    isChange: events & Int32(UV_CHANGE.rawValue) != 0
                )
                watcher.onEvent(.success(change))
            }, path, 0)
        if status < 0 {
            uvClose(handle)
            throw UVError(code: status, operation: "watch", target: path)
        }
    }

    func close() {
        onEvent = { _ in }
        uvClose(handle)
    }

    var handleDescription: String { "file watcher \(path)" }
    func closeHandle() { close() }
}
