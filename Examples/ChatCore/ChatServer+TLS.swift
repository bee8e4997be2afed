import Logging
import UVLoop
import UVLoopTLS

extension ChatServer {
    /// Loads the certificate and key of `settings`, with its handshake timeout.
    static func makeTLSContext(_ settings: ChatTLSSettings) throws(TLSError) -> TLSContext {
        var configuration = TLSConfiguration.server(
            certificateChain: settings.certificateFile, privateKey: settings.privateKeyFile)
        configuration.handshakeTimeout = settings.handshakeTimeout
        return try TLSContext(configuration)
    }

    /// Starts the TLS listener's accept loop and the SIGHUP watcher that reloads its
    /// certificate, if there is a TLS listener; returns their tasks. The SIGHUP handler is
    /// installed before this returns, so a SIGHUP sent once the port is announced never ends
    /// the process.
    func startTLS() -> [SpawnedTask] {
        guard let tls else { return [] }
        var hangups = loop.signals([.hangup]).makeAsyncIterator()
        log.info(
            "TLS listening on \(tls.listener.boundAddress ?? tls.listener.localAddress); handshakes within \(configuration.tls?.handshakeTimeout ?? .zero); SIGHUP reloads the certificate"
        )
        console.say("ChatServer TLS on port \(tls.listener.port)")
        let reloader = loop.spawn {
            while (try? await hangups.next()) != nil { self.reloadCertificate(tls.context) }
        }
        let acceptor = loop.spawn { await self.acceptTLSConnections(tls.listener, tls.context) }
        return [reloader, acceptor]
    }

    /// Reads the certificate and key again (SIGHUP): handshakes from now on use them; everyone
    /// connected stays. If they cannot be loaded, the old ones stay in use and the log says why.
    func reloadCertificate(_ context: TLSContext) {
        let files = configuration.tls.map { "\($0.certificateFile), \($0.privateKeyFile)" } ?? ""
        do {
            try context.reload()
            log.notice(
                "SIGHUP: reloaded the TLS certificate and key (\(files)); new handshakes use them, the \(room.count(of: .tls)) TLS participant(s) connected stay"
            )
        } catch {
            log.error("SIGHUP: reloading the TLS certificate failed: \(error); the old certificate stays in use")
        }
    }

    /// Accepts TLS connections until the listener closes; each handshake runs in the
    /// connection's own task, so a slow one never holds up the others.
    private func acceptTLSConnections(_ listener: TCPListener, _ context: TLSContext) async {
        while true {
            let connection: TCPStream
            do {
                connection = try await listener.accept()
            } catch {
                if listener.isClosed || error is CancellationError { return }
                log.error("accepting a TLS connection failed: \(error); the listener backs off and retries")
                continue
            }
            if room.count + handshakes >= participantLimit {
                // Nothing readable can be said before a handshake: closed at once.
                log.notice(
                    "refused a TLS connection from \(connection.peerAddress?.description ?? "unknown address"): the room is full (\(participantLimit))"
                )
                connection.close()
                continue
            }
            handshakes += 1
            loop.spawn { await self.serveTLS(connection, context) }
        }
    }

    /// Runs the handshake (within the context's timeout), then admits the participant and runs
    /// its session like any other.
    private func serveTLS(_ connection: TCPStream, _ context: TLSContext) async {
        let peer = connection.peerAddress?.description ?? "unknown address"
        let accepted: TLSStream?
        do {
            accepted = try await TLSStream.accept(over: connection, context: context)
        } catch {
            // The TLS stream closed the connection (with an alert where there was one to send).
            log.info("TLS handshake with \(peer) failed: \(error)")
            accepted = nil
        }
        handshakes -= 1
        guard let stream = accepted else { return }
        guard !room.isClosing else { return stream.close() }
        stream.maxLineLength = configuration.maxLineLength
        log.debug("TLS handshake with \(peer) done: \(stream.protocolVersion)")
        let session = ChatSession(participant: room.admit(stream, kind: .tls), context: self.context)
        await session.run()
    }
}

extension Participant {
    /// The socket under a TLS or WebSocket participant's stream, which shutdown flushes.
    var underlyingStream: Stream? {
        ((stream as? TLSStream)?.underlying ?? (stream as? WebSocketLineStream)?.socket.stream) as? Stream
    }
}
