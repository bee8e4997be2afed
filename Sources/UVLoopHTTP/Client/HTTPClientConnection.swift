/// A client connection: its stream, its response parser, the origin it talks to.
final class HTTPClientConnection {
    let stream: any ByteStream
    var parser: HTTPParser
    let origin: String

    init(stream: any ByteStream, origin: String, limits: HTTPParserLimits) {
        self.stream = stream
        self.origin = origin
        parser = HTTPParser(kind: .response, limits: limits)
    }
}
