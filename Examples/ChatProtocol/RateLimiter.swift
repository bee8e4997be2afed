/// A token bucket: lets `burst` events through at once, then `rate` events a second on average.
///
/// Keep one per client to cap how fast it may send. Ask ``admit(at:)`` for each event and drop
/// the ones it refuses; nothing is queued, so a flood costs no memory. Refusals come in runs —
/// a burst of excess events — and ``Decision/refused(isFirstOfRun:)`` says which refusal starts
/// one, so the sender can be told once per burst rather than once per event.
///
/// ```swift
/// var limiter = RateLimiter(rate: 5, burst: 10)
/// for try await line in client.lines {
///     switch limiter.admit() {
///     case .admitted: relay(line)
///     case .refused(isFirstOfRun: true): try client.write("slow down: lines are being dropped\n")
///     case .refused: break
///     }
/// }
/// ```
///
/// A value type with no locks: keep it where its client's task can mutate it.
public struct RateLimiter: Sendable {
    /// What ``RateLimiter/admit(at:)`` decided.
    public enum Decision: Sendable, Equatable {
        /// The event may go ahead; it used one token.
        case admitted
        /// The event must be dropped. `isFirstOfRun` is true for the first refusal after the
        /// sender kept to the rate for at least ``RateLimiter/runGap`` (or ever).
        case refused(isFirstOfRun: Bool)
    }

    /// Tokens earned per second: the sustained rate allowed.
    public let rate: Double
    /// The most tokens the bucket holds: how many events may come at once.
    public let burst: Int
    /// A refusal later than this after the previous one starts a new run: the time it takes to
    /// earn one token (`1 / rate`).
    public var runGap: Duration { .nanoseconds(Int64((1_000_000_000 / rate).rounded(.up))) }

    private var tokens: Double
    private var updated: ContinuousClock.Instant
    private var lastRefusal: ContinuousClock.Instant?

    /// Creates a full bucket. `rate` must be positive and `burst` at least 1.
    public init(rate: Double, burst: Int, now: ContinuousClock.Instant = .now) {
        precondition(rate > 0 && rate.isFinite, "RateLimiter rate must be positive")
        precondition(burst >= 1, "RateLimiter burst must be at least 1")
        self.rate = rate
        self.burst = burst
        tokens = Double(burst)
        updated = now
    }

    /// Takes a token for an event at `now` if one is left, and says whether the event may go ahead.
    public mutating func admit(at now: ContinuousClock.Instant = .now) -> Decision {
        refill(at: now)
        if tokens >= 1 {
            tokens -= 1
            return .admitted
        }
        defer { lastRefusal = now }
        guard let last = lastRefusal else { return .refused(isFirstOfRun: true) }
        return .refused(isFirstOfRun: now - last >= runGap)
    }

    /// The tokens available at `now`, whole or not.
    public mutating func available(at now: ContinuousClock.Instant = .now) -> Double {
        refill(at: now)
        return tokens
    }

    private mutating func refill(at now: ContinuousClock.Instant) {
        guard now > updated else { return }
        let (seconds, attoseconds) = (now - updated).components
        let elapsed = Double(seconds) + Double(attoseconds) * 1e-18
        tokens = min(Double(burst), tokens + elapsed * rate)
        updated = now
    }
}
