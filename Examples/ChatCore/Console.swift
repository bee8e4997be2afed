#if canImport(Glibc)
    import Glibc
#endif

/// Where the server's console lines go: standard output, flushed at once, unless a test
/// captures them.
public struct Console: Sendable {
    private let write: @Sendable (String) -> Void

    /// A console that hands each line to `write`.
    public init(_ write: @escaping @Sendable (String) -> Void) { self.write = write }

    /// Standard output, flushed after each line so it reaches a pipe at once.
    public static let standardOutput = Console { line in
        print(line)
        fflush(nil)
    }

    /// Prints one console line.
    public func say(_ line: String) { write(line) }
}
