import UVLoop

/// One connection in the room: its stream, its name, and its flood limiter.
///
/// Created by ``Room/admit(_:kind:)``; used on the room's loop only. The stream is any
/// `ByteStream` (TCP, TLS, a WebSocket's lines); a TCP one is relayed to by the room's
/// broadcast fast path, the others a line at a time.
public final class Participant: RosterMember {
    /// The connection.
    public let stream: any ByteStream
    /// The connection when it is a plain TCP one, which the room's fast fan-out writes to.
    let tcp: TCPStream?
    /// How it is connected.
    public let kind: ParticipantKind
    /// The current name, unique in the room (`guest-N` until `/nick`).
    public internal(set) var name: String
    /// The peer's address when it joined, for the log.
    public let peer: SocketAddress?
    /// True from admission until the participant is dismissed from the room.
    public internal(set) var isPresent = true
    /// Its rank in order of arrival (1 for the room's first), for ``Room/participants``.
    public let arrival: Int
    /// The participant's flood limiter, if the room has a flood limit. Boxed, so a room without
    /// one (`--plain`) spends a pointer per participant on it rather than the limiter's 60 bytes.
    let floodLimiter: FloodLimiter?
    /// Its index in the room's roster of non-TCP participants (see ``RosterMember``).
    public var rosterIndex: Int?

    init(stream: any ByteStream, kind: ParticipantKind, name: String, arrival: Int, limiter: RateLimiter?) {
        self.stream = stream
        let tcp = stream as? TCPStream
        self.tcp = tcp
        self.kind = kind
        self.name = name
        self.arrival = arrival
        // A TCP stream's address comes from its own property: the protocol's default is `nil`.
        self.peer = tcp?.peerAddress ?? stream.peerAddress
        self.floodLimiter = limiter.map(FloodLimiter.init)
    }

    /// The name and address, for log lines.
    var logDescription: String { "\(name) (\(peer?.description ?? "unknown address"))" }
}

/// How a participant is connected: for the log and the metrics.
public enum ParticipantKind: String, Sendable, CaseIterable {
    /// Plain TCP (`nc`).
    case tcp
    /// TLS over TCP (`openssl s_client`).
    case tls
    /// A WebSocket (a browser): one text message per line.
    case websocket
}

/// A participant's rate limiter, held by reference.
final class FloodLimiter {
    private var limiter: RateLimiter
    init(_ limiter: RateLimiter) { self.limiter = limiter }
    func admit() -> RateLimiter.Decision { limiter.admit() }
}

/// Why a participant left.
public enum Departure: Sendable, Equatable {
    /// `/quit`.
    case quit
    /// The peer closed the connection.
    case closed
    /// No line within the idle timeout.
    case idle
    /// The outbound queue went over its bound: the peer is not reading.
    case tooSlow
    /// The server is shutting down.
    case shutdown
    /// The connection failed (a reset, for example); the error's description.
    case failed(String)

    /// The departure an error from reading the connection means.
    init(readError error: any Error) {
        switch error {
        case is TimeoutError: self = .idle
        case is CancellationError: self = .shutdown
        default: self = .failed(String(describing: error))
        }
    }

    /// The reason in a log line.
    var logDescription: String {
        switch self {
        case .quit: "quit"
        case .closed: "connection closed"
        case .idle: "idle timeout"
        case .tooSlow: "not reading (outbound queue over its bound)"
        case .shutdown: "server shutting down"
        case .failed(let error): error
        }
    }
}
