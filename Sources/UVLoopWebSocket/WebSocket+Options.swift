import UVLoop

extension WebSocket {
    /// A session's limits and features; every limit has a default a production server would choose.
    public struct Options: Sendable {
        /// The largest message accepted, after decompression (default 16 MiB); a larger one
        /// closes the connection with 1009.
        public var maxMessageSize = 16 * 1024 * 1024
        /// How long the closing handshake may take before the connection is dropped (default 5 s).
        public var closeTimeout: Duration = .seconds(5)
        /// How long an opening handshake may take (default 10 s).
        public var handshakeTimeout: Duration = .seconds(10)
        /// The most header lines an opening handshake may have (default 100).
        public var maxHeaderLines = 100
        /// Sends a ping this often and closes with 1011 if its pong has not come by the next
        /// one; nil (the default) sends none.
        public var pingInterval: Duration?
        /// permessage-deflate: a server accepts it when offered, a client offers it; nil
        /// (the default) turns it off.
        public var compression: PerMessageDeflateOptions?
        /// Subprotocols: a server picks the client's first one listed here; a client offers these.
        public var subprotocols: [String] = []

        /// The defaults: 16 MiB messages, 5 s close timeout, no keep-alive pings, no compression.
        public init() {}
    }
}
