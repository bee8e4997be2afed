import COpenSSL

/// A TLS failure: what was being done, with whom, and why, in OpenSSL's words.
///
/// ```
/// TLS handshake with localhost:3443 failed: certificate verify failed (self-signed certificate in certificate chain)
/// ```
///
/// ``TLSStream`` throws it for handshakes, records and close; ``TLSContext`` throws it for
/// certificates and keys it cannot load (``Kind/configuration``, naming the file).
public struct TLSError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, coarsely, for code that reacts to it.
    public enum Kind: Sendable, Hashable {
        /// A certificate, key or setting could not be loaded or applied.
        case configuration
        /// The handshake failed: a protocol error, no shared version or cipher, an alert.
        case handshakeFailed
        /// The peer's certificate did not verify (unknown issuer, wrong host, expired...).
        case certificateVerificationFailed
        /// The handshake did not finish within the configured time.
        case handshakeTimedOut
        /// The peer closed the connection before the handshake finished.
        case closedDuringHandshake
        /// A record after the handshake was malformed or failed to authenticate.
        case protocolViolation
    }

    /// What went wrong, coarsely.
    public let kind: Kind
    /// What was being done: "TLS handshake", "load certificate chain", "read".
    public let operation: String
    /// With whom or what: a peer ("localhost:3443") or a file; `nil` if neither applies.
    public let target: String?
    /// Why, in OpenSSL's words: the reason of the first queued error ("certificate verify failed").
    public let reason: String
    /// The certificate verification result when verification failed ("certificate has expired").
    public let verifyResult: String?
    /// Every error OpenSSL queued for the operation, as `ERR_error_string_n` prints them.
    public let openSSLErrors: [String]

    /// Creates an error; ``TLSStream`` and ``TLSContext`` make these themselves.
    public init(
        kind: Kind, operation: String, target: String?, reason: String, verifyResult: String? = nil, openSSLErrors: [String] = []
    ) {
        self.kind = kind
        self.operation = operation
        self.target = target
        self.reason = reason
        self.verifyResult = verifyResult
        self.openSSLErrors = openSSLErrors
    }

    public var description: String {
        var text = operation
        // A file reads "load private key key.pem failed"; a peer "TLS handshake with host:port failed".
        if let target { text += kind == .configuration ? " \(target)" : " with \(target)" }
        text += " failed: \(reason)"
        if let verifyResult { text += " (\(verifyResult))" }
        return text
    }
}

extension TLSError {
    /// Builds an error from OpenSSL's error queue (emptying it); `fallback` is the reason when
    /// the queue holds nothing.
    static func fromQueue(
        kind: Kind, operation: String, target: String?, fallback: String, verifyResult: String? = nil
    ) -> TLSError {
        let queued = OpenSSLErrorQueue.drain()
        let reason = queued.first?.reason ?? fallback
        var kind = kind
        if verifyResult != nil && kind == .handshakeFailed { kind = .certificateVerificationFailed }
        return TLSError(
            kind: kind, operation: operation, target: target, reason: reason, verifyResult: verifyResult,
            openSSLErrors: queued.map(\.text))
    }
}

/// OpenSSL's per-thread error queue. Each operation clears it first, and reads it out on
/// failure, so one connection's errors never show up in another's.
enum OpenSSLErrorQueue {
    struct Entry {
        let reason: String
        let text: String
    }

    /// Empties the thread's queue. Peeks first: `ERR_clear_error` resets all 16 slots (about
    /// 300 instructions), a peek at an empty queue costs a fraction of that (callgrind, TLS echo).
    static func clear() {
        if ERR_peek_error() != 0 { ERR_clear_error() }
    }

    static func drain() -> [Entry] {
        var entries: [Entry] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            let text = withUnsafeTemporaryAllocation(of: CChar.self, capacity: 256) { buffer in
                ERR_error_string_n(code, buffer.baseAddress, buffer.count)
                return String(cString: buffer.baseAddress!)  // Force-unwrap: a 256-byte allocation has a base.
            }
            let reason = ERR_reason_error_string(code).map { String(cString: $0) } ?? text
            entries.append(Entry(reason: reason, text: text))
        }
        return entries
    }
}
