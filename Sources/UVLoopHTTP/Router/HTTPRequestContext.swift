/// What a handler knows about a request besides the request itself.
public struct HTTPRequestContext {
    /// The loop the connection (and the handler) runs on.
    public let loop: Loop
    /// Values of the route's path parameters (`/users/:id` gives `parameters["id"]`).
    public var parameters = HTTPPathParameters()
    let stream: any ByteStream

    init(loop: Loop, stream: any ByteStream) {
        self.loop = loop
        self.stream = stream
    }

    /// The client's address, where the transport has one.
    public var peerAddress: SocketAddress? { stream.peerAddress }
}

/// The path parameters a route matched, by name.
public struct HTTPPathParameters: Sendable {
    private var pairs: [(name: String, value: Substring)] = []

    /// No parameters.
    public init() {}

    /// The value of parameter `name`, without percent-decoding.
    public subscript(name: String) -> Substring? {
        pairs.first { $0.name == name }?.value
    }

    mutating func append(_ name: String, _ value: Substring) {
        pairs.append((name, value))
    }
}
