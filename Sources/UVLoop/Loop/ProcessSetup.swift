import CLibUV

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Process-wide settings every UVLoop program needs, applied once when the first loop is made.
enum ProcessSetup {
    /// Ignores SIGPIPE (a write to a closed socket then fails with EPIPE instead of killing the
    /// process) and raises the soft open-file limit to the hard limit, so a server can hold as
    /// many connections as the system allows.
    static func once() { _ = applied }

    private static let applied: Bool = {
        signal(SIGPIPE, SIG_IGN)
        raiseOpenFileLimit()
        return true
    }()

    /// Raises `RLIMIT_NOFILE`'s soft limit to its hard limit; returns the limit now in force.
    @discardableResult
    static func raiseOpenFileLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return limit.rlim_cur > UInt(Int.max) ? Int.max : Int(limit.rlim_cur)
    }
}

extension Loop {
    /// The process's soft open-file limit (raised to the hard limit when the first loop starts).
    public static var openFileLimit: Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
        return limit.rlim_cur > UInt(Int.max) ? Int.max : Int(limit.rlim_cur)
    }
}
