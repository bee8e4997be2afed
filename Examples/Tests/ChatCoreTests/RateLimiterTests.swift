import ChatProtocol
import Testing
import UVLoop

@Suite("RateLimiter")
struct RateLimiterTests {
    let start = ContinuousClock.now

    func at(_ milliseconds: Int) -> ContinuousClock.Instant { start + .milliseconds(milliseconds) }

    @Test("admits a full burst at once, then refuses")
    func burstThenRefuse() {
        var limiter = RateLimiter(rate: 5, burst: 10, now: start)
        let decisions = (0..<12).map { _ in limiter.admit(at: start) }
        #expect(decisions.prefix(10).allSatisfy { $0 == .admitted })
        #expect(decisions[10] == .refused(isFirstOfRun: true))
        #expect(decisions[11] == .refused(isFirstOfRun: false))
    }

    @Test("earns tokens back at the rate, never more than the burst")
    func refills() {
        var limiter = RateLimiter(rate: 5, burst: 10, now: start)
        for _ in 0..<10 { _ = limiter.admit(at: start) }
        #expect(limiter.available(at: at(199)) < 1)
        #expect(limiter.admit(at: at(199)) != .admitted)
        #expect(limiter.admit(at: at(401)) == .admitted)  // 2 tokens earned, 1 spent
        #expect(limiter.admit(at: at(401)) == .admitted)
        #expect(limiter.admit(at: at(401)) != .admitted)
        #expect(limiter.available(at: at(60_000)) == 10)
    }

    @Test("one refusal per burst is marked first: a run ends after a gap of one token's time")
    func runs() {
        var limiter = RateLimiter(rate: 5, burst: 2, now: start)
        _ = limiter.admit(at: start)
        _ = limiter.admit(at: start)
        // A flood spread over 150 ms: one run, though a token comes back meanwhile.
        var firsts = 0
        for millisecond in stride(from: 0, through: 150, by: 10) {
            if limiter.admit(at: at(millisecond)) == .refused(isFirstOfRun: true) { firsts += 1 }
        }
        #expect(firsts == 1)
        // Quiet for a second: the next flood is a new run, told again.
        #expect(limiter.admit(at: at(1_200)) == .admitted)
        #expect(limiter.admit(at: at(1_200)) == .admitted)
        #expect(limiter.admit(at: at(1_200)) == .refused(isFirstOfRun: true))
        #expect(limiter.admit(at: at(1_201)) == .refused(isFirstOfRun: false))
        #expect(limiter.runGap == .milliseconds(200))
    }

    @Test("a sender within the rate is never refused")
    func steadySender() {
        var limiter = RateLimiter(rate: 5, burst: 1, now: start)
        let decisions = (0..<50).map { limiter.admit(at: at($0 * 200)) }
        #expect(decisions.allSatisfy { $0 == .admitted })
    }
}
