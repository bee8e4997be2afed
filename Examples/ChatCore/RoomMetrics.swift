/// What a room has done since it opened, for `GET /metrics`: lines relayed, bytes queued to
/// participants, and departures by cause.
public struct RoomMetrics: Sendable {
    /// Lines broadcast to the room (chat lines, actions, notices), each counted once.
    public internal(set) var linesRelayed = 0
    /// Bytes queued to participants: each broadcast line once per recipient, plus replies.
    public internal(set) var bytesOut = 0
    /// Departures by cause: `quit`, `closed`, `idle`, `too_slow`, `shutdown`, `failed`.
    public internal(set) var disconnects: [String: Int] = [:]

    /// The label of `departure` in ``disconnects``.
    static func label(_ departure: Departure) -> String {
        switch departure {
        case .quit: "quit"
        case .closed: "closed"
        case .idle: "idle"
        case .tooSlow: "too_slow"
        case .shutdown: "shutdown"
        case .failed: "failed"
        }
    }

    mutating func record(_ departure: Departure) { disconnects[Self.label(departure), default: 0] += 1 }
}
