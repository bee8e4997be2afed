import Glibc
import Testing
import UVLoop
import UVLoopTestSupport

// SIGWINCH and SIGURG are ignored by default, so a stray one cannot end the test run, and no
// other test listens for them.
private let windowChanged = Signal(SIGWINCH)
private let urgent = Signal(SIGURG)

@Suite("Signal sequences", .serialized)
struct LoopSignalsTests {
    @Test("yields each signal received, and removes the handlers when the iteration ends")
    func signals() async throws {
        let result = try await onLoop { loop -> ([Signal?], Int, Int) in
            let before = loop.openHandleCount
            var got: [Signal?] = []
            var during = 0
            do {
                var signals = loop.signals([windowChanged, urgent]).makeAsyncIterator()
                during = loop.openHandleCount - before
                kill(getpid(), SIGWINCH)
                got.append(try await signals.next())
                kill(getpid(), SIGURG)
                got.append(try await signals.next())
            }
            return (got, during, loop.openHandleCount - before)
        }
        #expect(result.0 == [windowChanged, urgent])
        #expect(result.1 == 2, "one handler per signal while iterating")
        #expect(result.2 == 0, "handlers left installed after the iteration")
    }

    @Test("two signals raised back to back before next() are both delivered")
    func buffered() async throws {
        let got = try await onLoop { loop -> Set<Signal> in
            var signals = loop.signals([windowChanged, urgent]).makeAsyncIterator()
            kill(getpid(), SIGURG)
            kill(getpid(), SIGWINCH)
            var got: Set<Signal> = []
            for _ in 0..<2 { got.insert(try #require(try await signals.next())) }
            return got
        }
        #expect(got == [windowChanged, urgent])
    }

    @Test("cancelling the iterating task ends it at once and removes the handlers")
    func cancel() async throws {
        let result = try await onLoop { loop -> (String, Int) in
            let before = loop.openHandleCount
            var outcome = "ended"
            let task = loop.spawn {
                do {
                    for try await _ in loop.signals([windowChanged]) {}
                } catch is CancellationError {
                    outcome = "cancelled"
                }
            }
            await Task.yield()
            task.cancel()
            await task.value
            return (outcome, loop.openHandleCount - before)
        }
        #expect(result.0 == "cancelled")
        #expect(result.1 == 0)
    }
}
