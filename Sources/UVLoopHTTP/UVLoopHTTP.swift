// UVLoopHTTP: an HTTP/1.1 server, router and client over the byte-stream contract.
// Requests and responses are swift-http-types values; the parser is UVLoopCodecs' HTTPParser.
@_exported import HTTPTypes
@_exported import UVLoop
