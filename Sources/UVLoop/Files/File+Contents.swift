import CLibUV

extension File {
    /// Reads the whole file at `path`.
    ///
    /// Throws `UVError` naming the path (`ENOENT`, `EACCES`, `EISDIR`),
    /// ``ByteLimitExceededError`` when the file has more than `limit` bytes, or
    /// `CancellationError`.
    ///
    /// ```swift
    /// let config = try await File.read("/etc/myapp.conf", on: loop).string
    /// ```
    public static func read(_ path: String, limit: Int = 64 << 20, on loop: Loop) async throws -> Bytes {
        let file = try await open(path, on: loop)
        defer { file.close() }
        var chunks: [Bytes] = []
        var total = 0
        while let chunk = try await file.read(upTo: min(max(limit - total + 1, 1), 1 << 20)) {
            total += chunk.count
            if total > limit { throw ByteLimitExceededError(limit: limit, source: path) }
            chunks.append(chunk)
        }
        return chunks.count == 1 ? chunks[0] : Bytes(concatenating: chunks)
    }

    /// Writes `bytes` to the file at `path`, creating it with `permissions` if needed and
    /// replacing what it held — or after it, with `appending`.
    ///
    /// Not atomic: a reader may see the file part written; for that, write another file and
    /// ``FileSystem/rename(_:to:)`` it over this one. Throws `UVError` naming the path, or
    /// `CancellationError`.
    ///
    /// ```swift
    /// try await File.write("pid \(pid)\n", to: "/run/myapp.pid", on: loop)
    /// ```
    public static func write(
        _ bytes: Bytes, to path: String, appending: Bool = false, permissions: Int = 0o644, on loop: Loop
    ) async throws {
        let file = try await open(
            path, .writeOnly, creating: true, truncating: !appending, appending: appending, permissions: permissions, on: loop)
        defer { file.close() }
        try await file.write(bytes)
        try await file.close()
    }

    /// Writes the UTF-8 bytes of `string` to the file at `path`; see
    /// ``write(_:to:appending:permissions:on:)-(Bytes,_,_,_,_)``.
    public static func write(
        _ string: String, to path: String, appending: Bool = false, permissions: Int = 0o644, on loop: Loop
    ) async throws {
        try await write(Bytes(string), to: path, appending: appending, permissions: permissions, on: loop)
    }
}
