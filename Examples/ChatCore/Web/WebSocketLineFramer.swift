import UVLoop
import UVLoopWebSocket

/// Frames lines for browser participants, once per line: the last line's message is kept, so
/// a line written to several browsers in turn gets the same frame bytes
/// (`WebSocket.PreparedMessage`). Shared by all the ``WebSocketLineStream``s of one server, on
/// its loop; the ``Room`` keeps one for its broadcasts.
public final class WebSocketLineFramer {
    // @exclusivity(unchecked): loop-thread-only, and `message(for:)` calls nothing that could
    // reach these again, so the runtime's dynamic exclusivity checks cannot fire.
    @exclusivity(unchecked) private var line = Bytes()
    @exclusivity(unchecked) private var message: WebSocket.PreparedMessage?

    /// A framer with nothing kept yet.
    public init() {}

    /// The text message for `line`, its trailing line terminator dropped.
    public func message(for line: Bytes) -> WebSocket.PreparedMessage {
        if let message, line == self.line { return message }
        var end = line.count
        while end > 0, line[end - 1] == 0x0A || line[end - 1] == 0x0D { end -= 1 }
        let message = WebSocket.PreparedMessage(utf8Text: end == line.count ? line : line.slice(0..<end))
        self.line = line
        self.message = message
        return message
    }
}
