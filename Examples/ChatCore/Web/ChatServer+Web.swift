import Logging
import UVLoop
import UVLoopHTTP
import UVLoopWebSocket

extension ChatServer {
    /// Starts the web server (`--http-port`), if there is one: an ``HTTPServer`` whose routes are
    /// `GET /` (the chat page), `GET /chat` (the room over WebSocket), `GET /health` and
    /// `GET /metrics` (for monitoring).
    func startWeb() -> SpawnedTask? {
        guard let web else { return nil }
        log.info("HTTP listening on \(web.boundAddress ?? web.localAddress): the chat page at /, the room at /chat")
        console.say("ChatServer HTTP on port \(web.port)")
        let server = HTTPServer(router: webRoutes())
        return loop.spawn {
            do {
                try await server.run(on: web)
            } catch {
                self.log.error("the web server stopped: \(error)")
            }
        }
    }

    /// The web server's routes.
    private func webRoutes() -> Router {
        var router = Router()
        router.get("/") { _, _ in
            HTTPServerResponse(
                status: .ok, headerFields: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                body: ChatPage.html)
        }
        router.get("/health") { _, _ in .text("ok\n") }
        router.get("/metrics") { [self] _, _ in
            HTTPServerResponse(
                status: .ok, headerFields: [.contentType: "text/plain; version=0.0.4", .cacheControl: "no-store"],
                body: Bytes(metricsText()))
        }
        router.get("/chat") { [self] request, _ in
            guard !room.isClosing else { return .text("the server is shutting down\n", status: .serviceUnavailable) }
            guard room.count + handshakes < participantLimit else {
                log.notice("refused a browser participant: the room is full (\(participantLimit))")
                return .text("Sorry, the room is full (\(participantLimit) participants).\n", status: .serviceUnavailable)
            }
            // The session starts as soon as the 101 is queued: nothing waits between the check
            // above and the admission below.
            var options = WebSocket.Options()
            options.maxMessageSize = configuration.webSocketMaxMessageSize
            if configuration.webSocketCompression { options.compression = PerMessageDeflateOptions() }
            // The session runs on the HTTP connection's task until it waits for a message; then
            // that task ends, and an idle browser holds none (PERFORMANCE.md, WebSocket).
            return .adoptingWebSocket(request, options: options) { [self] socket in
                guard !room.isClosing else {
                    loop.spawn { await socket.close(code: .goingAway) }
                    return
                }
                let link = WebSocketLineStream(socket, maxLineLength: configuration.maxLineLength, framer: lineFramer)
                let participant = room.admit(link, kind: .websocket)
                if configuration.isPlain {
                    PlainLinkSession(participant: participant, context: context).start()
                } else {
                    ChatSession(participant: participant, context: context).start()
                }
            }
        }
        return router
    }

    /// The room's figures in the Prometheus text format (version 0.0.4).
    func metricsText() -> String {
        var text = "# HELP chat_participants Participants in the room, by how they are connected.\n"
        text += "# TYPE chat_participants gauge\n"
        for kind in ParticipantKind.allCases { text += "chat_participants{kind=\"\(kind.rawValue)\"} \(room.count(of: kind))\n" }
        text += "# HELP chat_lines_relayed_total Lines broadcast to the room.\n# TYPE chat_lines_relayed_total counter\n"
        text += "chat_lines_relayed_total \(room.metrics.linesRelayed)\n"
        text += "# HELP chat_bytes_out_total Bytes queued to participants.\n# TYPE chat_bytes_out_total counter\n"
        text += "chat_bytes_out_total \(room.metrics.bytesOut)\n"
        text += "# HELP chat_disconnects_total Departures, by cause.\n# TYPE chat_disconnects_total counter\n"
        for cause in ["quit", "closed", "idle", "too_slow", "shutdown", "failed"] {
            text += "chat_disconnects_total{cause=\"\(cause)\"} \(room.metrics.disconnects[cause] ?? 0)\n"
        }
        return text
    }
}
