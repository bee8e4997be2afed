/// Anything that hands out connections for ``HTTPServer/run(on:)``: a ``TCPListener``, a
/// ``UnixListener``, or an acceptor that wraps each connection (TLS) before handing it out.
public protocol HTTPConnectionSource: AnyObject {
    /// The connections handed out.
    associatedtype Connection: ByteStream
    /// Waits for the next connection; throws once the source is closed (and on failures
    /// such as `EMFILE`, after which it may be called again).
    func accept() async throws -> Connection
    /// Stops accepting.
    func close()
    /// True once ``close()`` was called.
    var isClosed: Bool { get }
}

extension TCPListener: HTTPConnectionSource {}
extension UnixListener: HTTPConnectionSource {}
