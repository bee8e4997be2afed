import COpenSSL
import Synchronization
import UVLoopCodecs

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// One TLS connection's state machine, without I/O: ciphertext in, plaintext and ciphertext out.
///
/// OpenSSL reads the peer's records from a memory BIO (``feed(_:)`` fills it) and writes its
/// own through an output BIO of ours (``takeOutput()`` empties it): for ``write(_:)`` straight
/// into the buffer that is then queued on the socket. ``TLSStream`` drives an engine over a
/// ``ByteStream``; tests and the fuzz target drive one directly.
///
/// ```swift
/// let engine = try TLSEngine(context: context, peer: "fuzz")
/// engine.feed(bytesFromPeer)
/// let finished = try engine.handshake()
/// if let reply = engine.takeOutput() { send(reply) }
/// ```
///
/// Not thread-safe: use an engine from one thread (its loop's). Every operation clears
/// OpenSSL's error queue first and reads it out when it fails.
public final class TLSEngine {
    /// What ``read()`` found.
    public enum ReadResult: Equatable {
        /// Decrypted application data.
        case plaintext(Bytes)
        /// More ciphertext is needed (``feed(_:)``).
        case needsInput
        /// The peer sent close_notify: no more data will come.
        case closed
    }

    /// The peer, for messages ("localhost:3443", "127.0.0.1:51234").
    public let peer: String
    /// Keeps the OpenSSL contexts this connection started from alive.
    private let generation: ContextGeneration
    private let ssl: OpaquePointer
    /// Ciphertext from the peer, read by OpenSSL (owned by `ssl`; replaced when it grew).
    private var inbound: OpaquePointer
    /// Where the output BIO (owned by `ssl`) puts the ciphertext for the peer.
    private let output: UnsafeMutablePointer<uvtls_output>
    /// The buffer lent to `output` for the current ``write(_:)``, until ``takeOutput()``.
    private var lent: ByteStorage?
    private let isServer: Bool
    private let verifies: Bool
    /// True once the handshake finished.
    public private(set) var isHandshakeComplete = false
    /// True once close_notify was queued (``shutdown()``).
    public private(set) var isShutdownSent = false
    /// True when the next ``read()`` cannot find a whole record: it found none, or it emptied
    /// both the inbound BIO and OpenSSL's buffers, and nothing was fed since. Such a read answers
    /// without calling OpenSSL (half of an echo's `SSL_read`s).
    private var isStarved = false
    /// True once the inbound BIO the handshake filled was replaced by an empty one.
    private var isHandshakeBufferReleased = false

    /// A memory BIO holding more than this many bytes, once empty, is replaced by a fresh one,
    /// so an idle connection does not keep the buffer of its largest burst.
    private static let bufferKeepLimit = 1024

    /// Starts a connection from `context`.
    ///
    /// - Parameters:
    ///   - context: the loaded settings; a client context verifies the server against
    ///     `serverName` (host name or IP address) unless it is insecure.
    ///   - serverName: client: the name sent in SNI and checked against the certificate.
    ///   - peer: who is on the other side, for error messages.
    public init(context: TLSContext, serverName: String? = nil, peer: String) throws(TLSError) {
        self.peer = peer
        generation = context.generation
        isServer = context.configuration.role == .server
        OpenSSLErrorQueue.clear()
        let made = (SSL_new(generation.primary), BIO_new(BIO_s_mem()), outputMethod.flatMap { BIO_new($0) })
        guard let ssl = made.0, let inbound = made.1, let outbound = made.2 else {
            // Whatever was made is freed (each call accepts NULL).
            SSL_free(made.0)
            BIO_free(made.1)
            BIO_free(made.2)
            throw TLSError.fromQueue(kind: .configuration, operation: "TLS setup", target: peer, fallback: "out of memory")
        }
        self.ssl = ssl
        self.inbound = inbound
        output = .allocate(capacity: 1)
        output.initialize(to: uvtls_output())
        BIO_set_data(outbound, output)
        uvtls_bio_set_mem_eof_return(inbound, -1)
        SSL_set_bio(ssl, inbound, outbound)
        var verifies = false
        if isServer {
            SSL_set_accept_state(ssl)
        } else {
            SSL_set_connect_state(ssl)
            if case .insecureNoVerification = context.configuration.verification {
            } else {
                verifies = true
            }
            if let serverName, !serverName.isEmpty {
                if Self.isIPAddress(serverName) {
                    // SNI carries host names only (RFC 6066 §3); an address is checked as one.
                    if verifies { X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), serverName) }
                } else {
                    uvtls_set_host_name(ssl, serverName)
                    if verifies { SSL_set1_host(ssl, serverName) }
                }
            }
        }
        self.verifies = verifies
        liveEngines.add(1, ordering: .relaxed)
    }

    deinit {
        SSL_free(ssl)
        free(output.pointee.spill)
        output.deallocate()
        liveEngines.subtract(1, ordering: .relaxed)
    }

    /// Engines alive in this process, for leak checks.
    public static var liveCount: Int { liveEngines.load(ordering: .relaxed) }

    // MARK: Ciphertext

    /// Hands OpenSSL ciphertext that arrived from the peer.
    public func feed(_ ciphertext: Bytes) {
        guard ciphertext.count > 0 else { return }
        isStarved = false
        ciphertext.withUnsafeBytes { buffer in
            // A memory BIO takes everything (it grows); at most Int32.max per call.
            var offset = 0
            while offset < buffer.count {
                let count = Int32(clamping: buffer.count - offset)
                let written = BIO_write(inbound, buffer.baseAddress! + offset, count)  // Force-unwrap: count > 0.
                if written <= 0 { break }
                offset += Int(written)
            }
        }
    }

    /// Bytes of ciphertext waiting to be sent to the peer.
    public var pendingOutputCount: Int { output.pointee.length + output.pointee.spill_length }

    /// Takes the ciphertext waiting to be sent to the peer, if any.
    public func takeOutput() -> Bytes? {
        let out = output.pointee
        let lent = self.lent
        self.lent = nil
        output.pointee = uvtls_output()
        if isHandshakeComplete && !isHandshakeBufferReleased {
            // Once, after the handshake's last flight: the inbound BIO keeps that flight's
            // capacity otherwise (measured with the outbound one: 1.4 KB per idle connection).
            isHandshakeBufferReleased = true
            compactInbound(keeping: 0)
        }
        defer { free(out.spill) }
        let total = out.length + out.spill_length
        guard total > 0 else { return nil }
        // Nearly always: a write's records, in the buffer lent for them.
        if let lent, out.spill_length == 0 { return Bytes(storage: lent, offset: 0, count: out.length) }
        let storage = ByteStorage.make(capacity: total)
        storage.withBase { base in
            if out.length > 0, let source = out.base { base.copyMemory(from: source, byteCount: out.length) }
            if out.spill_length > 0, let spill = out.spill {
                (base + out.length).copyMemory(from: spill, byteCount: out.spill_length)
            }
        }
        return Bytes(storage: storage, offset: 0, count: total)
    }

    /// Lends `output` a buffer for the records of `count` bytes of plaintext, unless it holds
    /// output not taken yet (then the records follow it, in the spill buffer).
    private func lendOutputBuffer(for count: Int) {
        guard lent == nil, output.pointee.spill_length == 0 else { return }
        // Per record: a 5-byte header, and at most 24 bytes of nonce, content type and tag
        // (TLS 1.2 AES-GCM: 8 + 16; TLS 1.3: 1 + 16). What does not fit goes to the spill.
        let capacity = count + (count / (16 * 1024) + 1) * 32
        let storage = ByteStorage.make(capacity: capacity)
        lent = storage
        output.pointee.base = storage.withBase { $0 }.assumingMemoryBound(to: UInt8.self)
        output.pointee.length = 0
        output.pointee.capacity = capacity
    }

    // MARK: Handshake

    /// Advances the handshake with the input fed so far; true once it is complete. Send
    /// ``takeOutput()`` after each call (also after a throw: it may hold an alert).
    ///
    /// Throws ``TLSError`` when the handshake fails: a protocol error, an alert from the peer,
    /// a certificate that does not verify (``TLSError/verifyResult`` says why).
    public func handshake() throws(TLSError) -> Bool {
        if isHandshakeComplete { return true }
        OpenSSLErrorQueue.clear()
        let status = SSL_do_handshake(ssl)
        if status == 1 {
            isHandshakeComplete = true
            compactInbound()
            return true
        }
        let error = SSL_get_error(ssl, status)
        if error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE { return false }
        var verifyResult: String?
        if verifies {
            let result = SSL_get_verify_result(ssl)
            if result != X509_V_OK { verifyResult = String(cString: X509_verify_cert_error_string(result)) }
        }
        throw TLSError.fromQueue(
            kind: .handshakeFailed, operation: "TLS handshake", target: peer, fallback: Self.describe(error),
            verifyResult: verifyResult)
    }

    // MARK: Application data

    /// Decrypts the next record's data, if a whole record has been fed.
    ///
    /// Throws ``TLSError`` (``TLSError/Kind/protocolViolation``) for a record that is malformed
    /// or fails to authenticate; send ``takeOutput()`` (the alert), then close.
    public func read() throws(TLSError) -> ReadResult {
        if isStarved { return .needsInput }
        OpenSSLErrorQueue.clear()
        var count = 0
        let result: ReadResult? = withUnsafeTemporaryAllocation(byteCount: 16 * 1024, alignment: 1) { buffer in
            // Force-unwrap: a 16 KiB allocation has a base address.
            let status = SSL_read_ex(ssl, buffer.baseAddress!, buffer.count, &count)
            if status == 1 { return .plaintext(Bytes(UnsafeRawBufferPointer(rebasing: buffer[..<count]))) }
            return nil
        }
        if let result {
            if BIO_ctrl_pending(inbound) == 0 && SSL_has_pending(ssl) == 0 {
                isStarved = true
                compactInbound()
            }
            return result
        }
        let error = SSL_get_error(ssl, 0)
        switch error {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            compactInbound()
            isStarved = true
            return .needsInput
        case SSL_ERROR_ZERO_RETURN:
            return .closed
        default:
            throw TLSError.fromQueue(kind: .protocolViolation, operation: "TLS read", target: peer, fallback: Self.describe(error))
        }
    }

    /// Encrypts `plaintext` into records for the peer (collect them with ``takeOutput()``).
    ///
    /// Throws ``TLSError`` before the handshake finished or after ``shutdown()``.
    public func write(_ plaintext: Bytes) throws(TLSError) {
        try plaintext.withUnsafeBytes { (buffer) throws(TLSError) in try write(buffer) }
    }

    /// Encrypts the bytes of `plaintext`, like the `Bytes` overload.
    func write(_ plaintext: UnsafeRawBufferPointer) throws(TLSError) {
        guard plaintext.count > 0 else { return }
        guard isHandshakeComplete, !isShutdownSent else {
            throw TLSError(
                kind: .protocolViolation, operation: "TLS write", target: peer,
                reason: isShutdownSent ? "close_notify already sent" : "handshake not finished")
        }
        OpenSSLErrorQueue.clear()
        lendOutputBuffer(for: plaintext.count)
        var written = 0
        // A memory BIO never pushes back, so each call writes all it is given.
        if SSL_write_ex(ssl, plaintext.baseAddress!, plaintext.count, &written) != 1 {  // Force-unwrap: count > 0.
            let failure = SSL_get_error(ssl, 0)
            throw TLSError.fromQueue(kind: .protocolViolation, operation: "TLS write", target: peer, fallback: Self.describe(failure))
        }
    }

    /// Queues close_notify (collect it with ``takeOutput()``); no more ``write(_:)``s after it.
    /// Reading goes on until the peer's close_notify. Does nothing before the handshake finished.
    public func shutdown() {
        guard isHandshakeComplete, !isShutdownSent else { return }
        isShutdownSent = true
        OpenSSLErrorQueue.clear()
        _ = SSL_shutdown(ssl)
        OpenSSLErrorQueue.clear()
    }

    // MARK: Facts

    /// The application protocol agreed through ALPN, if any.
    public var negotiatedProtocol: String? {
        var data: UnsafePointer<UInt8>?
        var length: UInt32 = 0
        SSL_get0_alpn_selected(ssl, &data, &length)
        guard let data, length > 0 else { return nil }
        return String(decoding: UnsafeBufferPointer(start: data, count: Int(length)), as: UTF8.self)
    }

    /// The protocol version in use, as OpenSSL names it ("TLSv1.3").
    public var protocolVersion: String { String(cString: SSL_get_version(ssl)) }

    /// The cipher suite in use, as OpenSSL names it ("TLS_AES_256_GCM_SHA384").
    public var cipherSuite: String? { SSL_get_current_cipher(ssl).flatMap { SSL_CIPHER_get_name($0) }.map { String(cString: $0) } }

    /// Server: the host name the client asked for (SNI), if any.
    public var requestedServerName: String? {
        SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name).map { String(cString: $0) }
    }

    /// True when the handshake resumed an earlier session (a ticket) instead of a full one.
    public var isSessionReused: Bool { SSL_session_reused(ssl) == 1 }

    // MARK: Helpers

    /// Replaces the inbound BIO by a fresh one when it is empty but holds more than `limit` bytes.
    private func compactInbound(keeping limit: Int = TLSEngine.bufferKeepLimit) {
        guard BIO_ctrl_pending(inbound) == 0, uvtls_bio_mem_capacity(inbound) > limit,
            let fresh = BIO_new(BIO_s_mem())
        else { return }
        uvtls_bio_set_mem_eof_return(fresh, -1)
        SSL_set0_rbio(ssl, fresh)
        inbound = fresh
    }

    private static func describe(_ error: Int32) -> String {
        switch error {
        case SSL_ERROR_SYSCALL: "unexpected end of input"
        case SSL_ERROR_ZERO_RETURN: "peer sent close_notify"
        default: "OpenSSL error \(error)"
        }
    }

    private static func isIPAddress(_ name: String) -> Bool {
        var address = in6_addr()
        return inet_pton(AF_INET, name, &address) == 1 || inet_pton(AF_INET6, name, &address) == 1
    }
}

/// The method of every engine's output BIO (made once; `nil` only when out of memory).
/// nonisolated(unsafe): a `BIO_METHOD` is immutable once made, and OpenSSL reads it from any thread.
private nonisolated(unsafe) let outputMethod: OpaquePointer? = uvtls_output_method_new()

/// The count behind ``TLSEngine/liveCount``.
private let liveEngines = Atomic<Int>(0)
