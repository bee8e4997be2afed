import Testing

@testable import UVLoop

#if canImport(Glibc)
    import Glibc
#endif

/// An `acceptSocket` replacement for the listener tests: fails with `EMFILE` the first
/// `failures` times, noting when, then accepts for real; counts every call.
final class InjectedAcceptFailures {
    private var failuresLeft: Int
    private(set) var failedAt: [ContinuousClock.Instant] = []
    private(set) var calls = 0

    init(failures: Int) { failuresLeft = failures }

    func accept(_ fd: Int32) -> Int32 {
        calls += 1
        guard failuresLeft == 0 else {
            failuresLeft -= 1
            failedAt.append(.now)
            return -EMFILE
        }
        return ListeningSocket.accept(fd)
    }

    /// The time between one failure and the next.
    var gaps: [Duration] { zip(failedAt.dropFirst(), failedAt).map { $0 - $1 } }
}

/// Calls `accept` like a server's accept loop but with no pause of its own — again at once
/// after each failure, up to 20 — and returns the connection and the failures' descriptions.
func acceptRetryingAtOnce<Connection>(_ accept: () async throws -> Connection) async -> (Connection?, [String]) {
    var errors: [String] = []
    while errors.count < 20 {
        do {
            return (try await accept(), errors)
        } catch {
            errors.append(String(describing: error))
        }
    }
    return (nil, errors)
}

/// Expects the pauses between the 4 injected failures to double: each retry waits at least its
/// pause (the loop clock has 1 ms steps).
func expectDoublingPauses(_ gaps: [Duration], sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(gaps.count == 3, sourceLocation: sourceLocation)
    for (gap, pause) in zip(gaps, [5, 10, 20]) {
        #expect(gap >= .milliseconds(pause - 1), "retried after \(gap), not \(pause) ms", sourceLocation: sourceLocation)
    }
}
