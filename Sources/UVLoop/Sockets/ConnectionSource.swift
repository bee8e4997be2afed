/// Anything that hands out connected byte streams one by one: a ``TCPListener``, a
/// ``UnixListener``, or a listener that wraps each connection before handing it out (TLS's
/// `TLSListener`). Protocol servers (`HTTPServer.run(on:)`) accept from any of them, so one
/// server runs over TCP, Unix sockets and TLS alike.
public protocol ConnectionSource: AnyObject {
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

extension TCPListener: ConnectionSource {}
extension UnixListener: ConnectionSource {}
