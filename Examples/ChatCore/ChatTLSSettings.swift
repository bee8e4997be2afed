/// The settings of a chat server's TLS listener (`--tls-port`), beside its plaintext one: both
/// lead to the same room.
///
/// ```swift
/// var configuration = ChatConfiguration()
/// configuration.tls = ChatTLSSettings(port: 3443, certificateFile: "cert.pem", privateKeyFile: "key.pem")
/// ```
public struct ChatTLSSettings: Sendable {
    /// The TCP port of the TLS listener (0 picks a free one).
    public var port: Int
    /// The certificate chain, PEM; read again on SIGHUP.
    public var certificateFile: String
    /// The certificate's private key, PEM; read again on SIGHUP.
    public var privateKeyFile: String
    /// A connection that has not finished its handshake within this is closed.
    public var handshakeTimeout = ChatTLSSettings.defaultHandshakeTimeout

    /// The handshake timeout by default: 10 s, the TLS module's.
    public static let defaultHandshakeTimeout = Duration.seconds(10)

    /// The settings of a TLS listener on `port` serving the certificate in `certificateFile`.
    public init(port: Int, certificateFile: String, privateKeyFile: String) {
        self.port = port
        self.certificateFile = certificateFile
        self.privateKeyFile = privateKeyFile
    }
}
