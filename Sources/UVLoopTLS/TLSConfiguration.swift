/// How a ``TLSContext`` is set up: the role, certificates, versions, ciphers, ALPN, limits.
///
/// A value type, `Sendable`: build one, then make a ``TLSContext`` from it on each loop.
///
/// ```swift
/// var server = TLSConfiguration.server(certificateChain: "cert.pem", privateKey: "key.pem")
/// server.alpnProtocols = ["http/1.1"]
/// let client = TLSConfiguration.client(verification: .caFile("ca.pem"))
/// ```
public struct TLSConfiguration: Sendable {
    /// Which end of the handshake the context serves.
    public enum Role: Sendable, Hashable {
        /// The end that connects and verifies.
        case client
        /// The end that accepts and presents a certificate.
        case server
    }

    /// A protocol version.
    public enum Version: Sendable, Hashable, Comparable {
        /// TLS 1.2 (RFC 5246).
        case tls12
        /// TLS 1.3 (RFC 8446).
        case tls13
    }

    /// How a client checks the server's certificate.
    public enum Verification: Sendable, Hashable {
        /// Against the system's trust store (`/etc/ssl/certs`), and the host name.
        case systemTrustStore
        /// Against the CA certificates in a PEM file, and the host name.
        case caFile(String)
        /// No check at all: anyone in the middle can read and change the traffic. Tests only.
        case insecureNoVerification
    }

    /// A certificate chain and its private key, both PEM files.
    public struct Certificate: Sendable, Hashable {
        /// The leaf certificate first, then its intermediates.
        public var chainFile: String
        /// The leaf's private key.
        public var privateKeyFile: String

        /// A certificate chain and its key, both PEM files.
        public init(chainFile: String, privateKeyFile: String) {
            self.chainFile = chainFile
            self.privateKeyFile = privateKeyFile
        }
    }

    /// Client or server.
    public var role: Role
    /// Server: the certificates offered; the first is the default, the others are chosen when a
    /// client's server name (SNI) matches one of their names. Client: empty.
    public var certificates: [Certificate]
    /// Client: how the server's certificate is checked (default: the system trust store).
    public var verification: Verification
    /// The oldest version accepted (default TLS 1.2; TLS 1.0 and 1.1 are never offered).
    public var minimumVersion: Version = .tls12
    /// The newest version offered (default TLS 1.3).
    public var maximumVersion: Version = .tls13
    /// TLS 1.2 cipher suites, in OpenSSL's syntax (default: ECDHE key exchange with AEAD only).
    public var cipherList = "ECDHE+AESGCM:ECDHE+CHACHA20"
    /// Application protocols (ALPN), most preferred first; empty for none. A server rejects a
    /// client that offers ALPN but none of these; a client sends them and reads the choice from
    /// ``TLSStream/negotiatedProtocol``.
    public var alpnProtocols: [String] = []
    /// Server: how long a client has to finish the handshake (default 10 s); then it is closed.
    public var handshakeTimeout: Duration = .seconds(10)
    /// Server: issue session tickets, so returning clients resume without a full handshake
    /// (default on). The tickets are stateless: no per-session memory on the server.
    public var sessionTickets = true

    /// A server configuration with one certificate chain and its private key (PEM files).
    ///
    /// Nothing is read until a ``TLSContext`` is made from it.
    public static func server(certificateChain: String, privateKey: String) -> TLSConfiguration {
        TLSConfiguration(
            role: .server, certificates: [Certificate(chainFile: certificateChain, privateKeyFile: privateKey)],
            verification: .insecureNoVerification)
    }

    /// A client configuration; it verifies the server against the system trust store unless
    /// told otherwise.
    public static func client(verification: Verification = .systemTrustStore, alpnProtocols: [String] = []) -> TLSConfiguration {
        var configuration = TLSConfiguration(role: .client, certificates: [], verification: verification)
        configuration.alpnProtocols = alpnProtocols
        return configuration
    }

    private init(role: Role, certificates: [Certificate], verification: Verification) {
        self.role = role
        self.certificates = certificates
        self.verification = verification
    }
}
