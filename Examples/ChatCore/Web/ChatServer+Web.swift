import Logging
import UVLoop
import UVLoopWebSocket

extension ChatServer {
    /// The longest request head line the web listener reads, and the most lines in a head.
    static let maxHeadLineLength = 8192
    static let maxHeadLines = 100

    /// Starts the web listener's accept loop (`--http-port`), if there is one: `GET /` serves
    /// the chat page, `GET /chat` joins the room over WebSocket, `GET /health` and
    /// `GET /metrics` answer for monitoring.
    func startWeb() -> SpawnedTask? {
        guard let web else { return nil }
        log.info("HTTP listening on \(web.boundAddress ?? web.localAddress): the chat page at /, the room at /chat")
        console.say("ChatServer HTTP on port \(web.port)")
        return loop.spawn { await self.acceptWebConnections(web) }
    }

    private func acceptWebConnections(_ listener: TCPListener) async {
        while true {
            let connection: TCPStream
            do {
                connection = try await listener.accept()
            } catch {
                if listener.isClosed || error is CancellationError { return }
                log.error("accepting an HTTP connection failed: \(error); the listener backs off and retries")
                continue
            }
            if room.count + handshakes >= participantLimit {
                refuse(connection)
                continue
            }
            handshakes += 1
            loop.spawn { await self.serveWeb(connection) }
        }
    }

    /// Reads one request head (within the WebSocket handshake timeout) and answers it; a
    /// WebSocket upgrade at `/chat` becomes a participant.
    private func serveWeb(_ connection: TCPStream) async {
        let peer = connection.peerAddress?.description ?? "unknown address"
        let options = WebSocket.Options()
        let head: RequestHead?
        do {
            head = try await loop.withTimeout(options.handshakeTimeout) { try await RequestHead.read(from: connection) }
        } catch {
            log.info("HTTP request from \(peer) failed: \(error)")
            head = nil
        }
        guard let head else {
            handshakes -= 1
            return await answer(connection, status: "400 Bad Request", type: "text/plain", body: "bad request\n")
        }
        guard head.path == "/chat" else {
            handshakes -= 1
            return await answerPlainRequest(head, on: connection)
        }
        let socket: WebSocket
        do {
            socket = try await WebSocket.accept(connection, method: head.method, version: head.version, headers: head.fields)
        } catch {
            handshakes -= 1
            log.info("WebSocket handshake with \(peer) failed: \(error)")
            return
        }
        handshakes -= 1
        guard !room.isClosing else { return await socket.close(code: .goingAway) }
        let link = WebSocketLineStream(socket, maxLineLength: configuration.maxLineLength)
        let session = ChatSession(participant: room.admit(link, kind: .websocket), context: context)
        await session.run()
    }

    private func answerPlainRequest(_ head: RequestHead, on connection: TCPStream) async {
        guard head.method == "GET" || head.method == "HEAD" else {
            return await answer(connection, status: "405 Method Not Allowed", type: "text/plain", body: "GET only\n")
        }
        switch head.path {
        case "/": await answer(connection, status: "200 OK", type: "text/html; charset=utf-8", body: ChatPage.html)
        case "/health": await answer(connection, status: "200 OK", type: "text/plain", body: "ok\n")
        case "/metrics":
            await answer(connection, status: "200 OK", type: "text/plain; version=0.0.4", body: Bytes(metricsText()))
        default: await answer(connection, status: "404 Not Found", type: "text/plain", body: "not found\n")
        }
    }

    private func answer(_ connection: TCPStream, status: String, type: String, body: String) async {
        await answer(connection, status: status, type: type, body: Bytes(body))
    }

    /// Writes a whole response, waits up to a second for it to leave, and closes.
    private func answer(_ connection: TCPStream, status: String, type: String, body: Bytes) async {
        let head =
            "HTTP/1.1 \(status)\r\nContent-Type: \(type)\r\nContent-Length: \(body.count)\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n"
        try? connection.write(Bytes(head))
        try? connection.write(body)
        _ = try? await loop.withTimeout(.seconds(1)) { try await connection.flush() }
        connection.close()
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

/// A request head read line by line: the request line and the header fields.
struct RequestHead {
    var method: String
    var path: String
    var version: String
    var fields: [WebSocketHeaderField]

    /// Reads a head from `stream`; `nil` if it is malformed, too long or cut short.
    static func read(from stream: TCPStream) async throws -> RequestHead? {
        stream.maxLineLength = ChatServer.maxHeadLineLength
        guard let requestLine = try await stream.readLine() else { return nil }
        let parts = requestLine.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 3 else { return nil }
        let target = parts[1]
        let path = String(target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? target)
        var head = RequestHead(method: String(parts[0]), path: path, version: String(parts[2]), fields: [])
        while let line = try await stream.readLine() {
            if line.isEmpty { return head }
            guard head.fields.count < ChatServer.maxHeadLines, let colon = line.firstIndex(of: ":") else { return nil }
            let name = String(line[..<colon])
            let value = String(line[line.index(after: colon)...].drop { $0 == " " || $0 == "\t" })
            head.fields.append(
                WebSocketHeaderField(name: name, value: String(value.reversed().drop { $0 == " " || $0 == "\t" }.reversed())))
        }
        return nil
    }
}
