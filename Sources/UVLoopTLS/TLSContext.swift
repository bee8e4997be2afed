import COpenSSL

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Loaded TLS settings, certificates and keys: what each connection's handshake starts from.
///
/// Make one per loop from a ``TLSConfiguration`` and share it among that loop's connections;
/// like the loop's streams, it is used on the loop's thread only. ``reload()`` reads the files
/// again without touching established connections.
///
/// ```swift
/// let context = try TLSContext(.server(certificateChain: "cert.pem", privateKey: "key.pem"))
/// for try await connection in listener.connections {
///     loop.spawn {
///         let stream = try await TLSStream.accept(over: connection, context: context)
///         try await serve(stream)
///     }
/// }
/// ```
public final class TLSContext {
    /// The settings the context was made from.
    public let configuration: TLSConfiguration
    /// The OpenSSL contexts new connections start from; replaced by ``reload()``. A connection
    /// keeps the generation it started with alive.
    private(set) var generation: ContextGeneration
    /// Encrypts what each loop iteration wrote to this context's streams, once per stream.
    let writeBatcher = TLSWriteBatcher()

    /// Loads the configuration's certificates and keys and applies its settings.
    ///
    /// Throws ``TLSError`` (``TLSError/Kind/configuration``) naming the file that is missing,
    /// unreadable or malformed, or the key that does not match its certificate.
    public init(_ configuration: TLSConfiguration) throws(TLSError) {
        self.configuration = configuration
        generation = try ContextGeneration(configuration)
    }

    /// Reads the certificate and key files again: handshakes that start afterwards use them,
    /// established connections go on undisturbed. On failure the context keeps the files it
    /// had, and the error names the file at fault.
    ///
    /// Session tickets issued before the reload no longer resume (the ticket keys are new).
    public func reload() throws(TLSError) {
        generation = try ContextGeneration(configuration)
    }
}

/// One load of a configuration: the OpenSSL context (`SSL_CTX`) and, for a server with several
/// certificates, one more per extra certificate, chosen by server name (SNI). Freed when the
/// ``TLSContext`` has moved on and no connection started from it is left.
final class ContextGeneration {
    /// The context connections start with.
    let primary: OpaquePointer
    /// Server: contexts for the extra certificates, tried in order against the SNI name.
    let alternates: [OpaquePointer]
    /// Server: the ALPN list the selection callback reads (see `uvtls_alpn_select`); freed here.
    private let alpnList: UnsafeMutableRawBufferPointer?

    init(_ configuration: TLSConfiguration) throws(TLSError) {
        let alpnWire = Self.wireFormat(configuration.alpnProtocols)
        if configuration.role == .server {
            guard !configuration.certificates.isEmpty else {
                throw TLSError(
                    kind: .configuration, operation: "set up TLS server", target: nil, reason: "no certificate configured")
            }
            var list: UnsafeMutableRawBufferPointer?
            if !alpnWire.isEmpty {
                // Two big-endian length bytes, then the list in wire format.
                let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: alpnWire.count + 2, alignment: 1)
                buffer[0] = UInt8(alpnWire.count >> 8)
                buffer[1] = UInt8(alpnWire.count & 0xFF)
                for (index, byte) in alpnWire.enumerated() { buffer[index + 2] = byte }
                list = buffer
            }
            alpnList = list
            var made: [OpaquePointer] = []
            do throws(TLSError) {
                for certificate in configuration.certificates {
                    made.append(try Self.makeServerContext(configuration, certificate: certificate, alpnList: list))
                }
            } catch {
                for context in made { SSL_CTX_free(context) }
                list?.deallocate()
                throw error
            }
            primary = made[0]
            alternates = Array(made.dropFirst())
        } else {
            alpnList = nil
            primary = try Self.makeClientContext(configuration, alpnWire: alpnWire)
            alternates = []
        }
        if !alternates.isEmpty {
            // Unmanaged, unretained: the callback runs only during handshakes of connections that
            // keep this generation alive (TLSEngine holds it), so the pointer is valid then.
            uvtls_ctx_set_servername_callback(primary, serverNameCallback, Unmanaged.passUnretained(self).toOpaque())
        }
    }

    deinit {
        SSL_CTX_free(primary)
        for context in alternates { SSL_CTX_free(context) }
        alpnList?.deallocate()
    }

    /// ALPN names in wire format: each as a length byte then its bytes; names that are empty or
    /// longer than 255 bytes are left out.
    static func wireFormat(_ protocols: [String]) -> [UInt8] {
        var wire: [UInt8] = []
        for name in protocols {
            let bytes = Array(name.utf8)
            guard !bytes.isEmpty, bytes.count <= 255 else { continue }
            wire.append(UInt8(bytes.count))
            wire += bytes
        }
        return wire
    }

    private static func makeContext(_ configuration: TLSConfiguration, server: Bool) throws(TLSError) -> OpaquePointer {
        OpenSSLErrorQueue.clear()
        let operation = server ? "set up TLS server" : "set up TLS client"
        guard let context = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method()) else {
            throw TLSError.fromQueue(kind: .configuration, operation: operation, target: nil, fallback: "SSL_CTX_new failed")
        }
        func version(_ version: TLSConfiguration.Version) -> Int32 {
            version == .tls12 ? TLS1_2_VERSION : TLS1_3_VERSION
        }
        uvtls_ctx_set_default_options(context)
        uvtls_ctx_set_mode(context, uvtls_mode_release_buffers())
        guard uvtls_ctx_set_min_version(context, version(configuration.minimumVersion)) == 1,
            uvtls_ctx_set_max_version(context, version(configuration.maximumVersion)) == 1,
            configuration.minimumVersion <= configuration.maximumVersion
        else {
            SSL_CTX_free(context)
            throw TLSError(kind: .configuration, operation: operation, target: nil, reason: "invalid version range")
        }
        guard SSL_CTX_set_cipher_list(context, configuration.cipherList) == 1 else {
            SSL_CTX_free(context)
            throw TLSError.fromQueue(
                kind: .configuration, operation: operation, target: "cipher list \"\(configuration.cipherList)\"",
                fallback: "no usable cipher")
        }
        return context
    }

    private static func makeServerContext(
        _ configuration: TLSConfiguration, certificate: TLSConfiguration.Certificate, alpnList: UnsafeMutableRawBufferPointer?
    ) throws(TLSError) -> OpaquePointer {
        let context = try makeContext(configuration, server: true)
        do throws(TLSError) {
            // Stateless tickets only: no per-session state is kept on the server.
            uvtls_ctx_disable_session_cache(context)
            if configuration.sessionTickets {
                SSL_CTX_set_num_tickets(context, 1)
            } else {
                uvtls_ctx_disable_tickets(context)
                SSL_CTX_set_num_tickets(context, 0)
            }
            let sessionContext: [UInt8] = Array("UVLoopTLS".utf8)
            SSL_CTX_set_session_id_context(context, sessionContext, UInt32(sessionContext.count))
            try checkReadable(certificate.chainFile, what: "certificate chain")
            try checkReadable(certificate.privateKeyFile, what: "private key")
            OpenSSLErrorQueue.clear()
            guard SSL_CTX_use_certificate_chain_file(context, certificate.chainFile) == 1 else {
                throw TLSError.fromQueue(
                    kind: .configuration, operation: "load certificate chain", target: certificate.chainFile,
                    fallback: "not a PEM certificate")
            }
            guard SSL_CTX_use_PrivateKey_file(context, certificate.privateKeyFile, SSL_FILETYPE_PEM) == 1 else {
                if ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH {
                    OpenSSLErrorQueue.clear()
                    throw TLSError(
                        kind: .configuration, operation: "load private key", target: certificate.privateKeyFile,
                        reason: "the key does not match the certificate in \(certificate.chainFile)")
                }
                throw TLSError.fromQueue(
                    kind: .configuration, operation: "load private key", target: certificate.privateKeyFile,
                    fallback: "not a PEM private key")
            }
            guard SSL_CTX_check_private_key(context) == 1 else {
                OpenSSLErrorQueue.clear()
                throw TLSError(
                    kind: .configuration, operation: "load private key", target: certificate.privateKeyFile,
                    reason: "the key does not match the certificate in \(certificate.chainFile)")
            }
            if let alpnList, let base = alpnList.baseAddress {
                uvtls_ctx_set_alpn_select(context, base.assumingMemoryBound(to: UInt8.self))
            }
            return context
        } catch {
            SSL_CTX_free(context)
            throw error
        }
    }

    private static func makeClientContext(_ configuration: TLSConfiguration, alpnWire: [UInt8]) throws(TLSError) -> OpaquePointer {
        let context = try makeContext(configuration, server: false)
        do throws(TLSError) {
            switch configuration.verification {
            case .systemTrustStore:
                SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
                guard SSL_CTX_set_default_verify_paths(context) == 1 else {
                    throw TLSError.fromQueue(
                        kind: .configuration, operation: "load system trust store", target: nil, fallback: "not found")
                }
            case .caFile(let path):
                SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
                try checkReadable(path, what: "CA file")
                OpenSSLErrorQueue.clear()
                guard SSL_CTX_load_verify_locations(context, path, nil) == 1 else {
                    throw TLSError.fromQueue(
                        kind: .configuration, operation: "load CA file", target: path, fallback: "no PEM certificates")
                }
            case .insecureNoVerification:
                SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nil)
            }
            // SSL_CTX_set_alpn_protos returns 0 on success.
            if !alpnWire.isEmpty && SSL_CTX_set_alpn_protos(context, alpnWire, UInt32(alpnWire.count)) != 0 {
                throw TLSError.fromQueue(
                    kind: .configuration, operation: "set ALPN protocols", target: nil, fallback: "invalid protocol list")
            }
            return context
        } catch {
            SSL_CTX_free(context)
            throw error
        }
    }

    /// Throws a configuration error naming `path` and the system's reason if it cannot be read.
    private static func checkReadable(_ path: String, what: String) throws(TLSError) {
        guard let file = fopen(path, "r") else {
            let reason = String(cString: strerror(errno))
            throw TLSError(kind: .configuration, operation: "load \(what)", target: path, reason: reason)
        }
        fclose(file)
    }
}

/// The SNI callback: switches the connection to the first extra certificate whose names match
/// the server name the client sent; the primary certificate stays otherwise.
private let serverNameCallback: @convention(c) (OpaquePointer?, UnsafeMutablePointer<Int32>?, UnsafeMutableRawPointer?) -> Int32 = {
    ssl, _, argument in
    guard let ssl, let argument, let name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name) else { return SSL_TLSEXT_ERR_OK }
    // The generation is alive: see where the callback is registered.
    let generation = Unmanaged<ContextGeneration>.fromOpaque(argument).takeUnretainedValue()
    for context in generation.alternates {
        if let certificate = SSL_CTX_get0_certificate(context), X509_check_host(certificate, name, 0, 0, nil) == 1 {
            SSL_set_SSL_CTX(ssl, context)
            break
        }
    }
    return SSL_TLSEXT_ERR_OK
}
