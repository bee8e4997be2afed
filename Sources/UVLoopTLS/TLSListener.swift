import UVLoop

/// A listener whose connections come out encrypted: it accepts TCP connections, runs each
/// TLS handshake in a task of its own (within the context's
/// ``TLSConfiguration/handshakeTimeout``, so a client that never finishes holds up no one), and
/// hands out the streams whose handshake succeeded, in the order they finished. A failed
/// handshake closes its connection (with an alert where there is one to send) and is counted
/// in ``failedHandshakes``; ``onHandshakeFailure`` sees its error.
///
/// It is a `ConnectionSource`, so a protocol server runs over it unchanged:
///
/// ```swift
/// let context = try TLSContext(.server(certificateChain: "cert.pem", privateKey: "key.pem"))
/// let listener = try TLSListener(TCPListener(host: "0.0.0.0", port: 8443, on: loop), context: context)
/// try await HTTPServer { request, _ in .text("hello over TLS\n") }.run(on: listener)
/// ```
///
/// Use it from its loop's tasks. ``context`` may be reloaded (``TLSContext/reload()``) while it
/// runs: handshakes from then on use the new certificate.
public final class TLSListener: ConnectionSource {
    /// The listening TCP socket.
    public let listener: TCPListener
    /// The certificates and settings every handshake uses.
    public let context: TLSContext
    /// Handshakes that may run at once; a connection beyond it is closed at once (default
    /// 1,024: a flood of clients that never finish cannot take every descriptor).
    public let maxPendingHandshakes: Int
    /// Handshakes running now.
    public private(set) var pendingHandshakes = 0
    /// Handshakes that failed or timed out (their connections were closed).
    public private(set) var failedHandshakes = 0
    /// Called with each failed handshake's error and the peer's address, if set.
    public var onHandshakeFailure: ((any Error, SocketAddress?) -> Void)?

    /// Completed handshakes waiting for ``accept()``; full, the next one waits (and so stays
    /// counted in ``pendingHandshakes``).
    private let ready: Channel<TLSStream>
    private var acceptor: SpawnedTask?

    /// Starts accepting on `listener` at once; `backlog` completed connections may wait for
    /// ``accept()`` (default 128).
    public init(_ listener: TCPListener, context: TLSContext, maxPendingHandshakes: Int = 1024, backlog: Int = 128) {
        self.listener = listener
        self.context = context
        self.maxPendingHandshakes = max(1, maxPendingHandshakes)
        ready = Channel(capacity: max(1, backlog), on: listener.loop)
        acceptor = listener.loop.spawn { [self] in await acceptConnections() }
    }

    /// The port it listens on.
    public var port: Int { listener.port }

    /// True once ``close()`` was called.
    public var isClosed: Bool { listener.isClosed }

    /// Waits for the next connection whose handshake succeeded. Throws `UVError` (closed) once
    /// the listener is closed and nothing completed is left, and `CancellationError`.
    public func accept() async throws -> TLSStream {
        if let stream = try await ready.receive() { return stream }
        throw UVError(code: UVError.Code.closed, operation: "accept on", target: "closed TLS listener on port \(port)")
    }

    /// Stops accepting; handshakes still running finish and are closed, and connections not
    /// yet taken by ``accept()`` are closed.
    public func close() {
        guard !listener.isClosed else { return }
        listener.close()
        acceptor?.cancel()
        acceptor = nil
        ready.close()
        // What completed but was never accepted (the channel is closed: these reads never wait).
        listener.loop.spawn { [ready] in
            while let stream = try? await ready.receive() { stream.close() }
        }
    }

    /// Accepts until the listener closes (`connections` rides out `EMFILE` and the like).
    private func acceptConnections() async {
        do {
            for try await connection in listener.connections(onFailure: { _ in }) {
                if pendingHandshakes >= maxPendingHandshakes {
                    connection.close()
                    failedHandshakes += 1
                    continue
                }
                pendingHandshakes += 1
                listener.loop.spawn { [self] in await handshake(connection) }
            }
        } catch {
            // Closed or cancelled: nothing more to accept.
        }
    }

    private func handshake(_ connection: TCPStream) async {
        defer { pendingHandshakes -= 1 }
        let peer = connection.peerAddress
        let stream: TLSStream
        do {
            stream = try await TLSStream.accept(over: connection, context: context)
        } catch {
            failedHandshakes += 1
            onHandshakeFailure?(error, peer)
            return
        }
        do {
            try await ready.send(stream)
        } catch {
            stream.close()  // closed meanwhile
        }
    }
}
