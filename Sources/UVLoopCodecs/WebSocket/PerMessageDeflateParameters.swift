/// The permessage-deflate settings one connection agreed on (RFC 7692 §7.1).
public struct PerMessageDeflateParameters: Sendable, Equatable {
    /// The server starts each message with an empty compression window.
    public var serverNoContextTakeover = false
    /// The client starts each message with an empty compression window.
    public var clientNoContextTakeover = false
    /// The server's LZ77 window: 2^bits bytes, 8...15.
    public var serverMaxWindowBits = 15
    /// The client's LZ77 window: 2^bits bytes, 8...15.
    public var clientMaxWindowBits = 15

    /// The defaults: context takeover both ways, 32 KiB windows.
    public init() {}

    /// The extension as a `Sec-WebSocket-Extensions` value, `clientWindowBitsOffered` telling
    /// whether `client_max_window_bits` may be sent (a server only answers it if it was offered).
    public func headerValue(includeClientWindowBits: Bool) -> String {
        var value = "permessage-deflate"
        if serverNoContextTakeover { value += "; server_no_context_takeover" }
        if clientNoContextTakeover { value += "; client_no_context_takeover" }
        if serverMaxWindowBits < 15 { value += "; server_max_window_bits=\(serverMaxWindowBits)" }
        if includeClientWindowBits && clientMaxWindowBits < 15 { value += "; client_max_window_bits=\(clientMaxWindowBits)" }
        return value
    }
}

/// What an endpoint wants from permessage-deflate, and the memory bound it sets.
///
/// Memory per connection: the compressor takes about `2^(windowBits+2) + 2^(memoryLevel+9)`
/// bytes (256 KiB at 15 and 8), the decompressor about `2^windowBits + 7 KiB` (39 KiB at 15);
/// decompressed output is bounded by the session's maximum message size (no zip bombs).
public struct PerMessageDeflateOptions: Sendable, Equatable {
    /// Ask (client) or require (server) that the server resets its window after each message.
    public var serverNoContextTakeover = false
    /// Ask that the client resets its window after each message.
    public var clientNoContextTakeover = false
    /// The largest server window accepted or asked for, 8...15.
    public var serverMaxWindowBits = 15
    /// The largest client window accepted or asked for, 8...15.
    public var clientMaxWindowBits = 15
    /// zlib's compression level, 1 (fast) ... 9 (small).
    public var compressionLevel: Int32 = 6
    /// zlib's memLevel for the compressor, 1...9: memory against speed (8 is zlib's default).
    public var memoryLevel: Int32 = 8
    /// Messages shorter than this are sent uncompressed (RSV1 clear), which RFC 7692 allows.
    public var minimumCompressedSize = 0

    /// The defaults: context takeover, 32 KiB windows, level 6, memLevel 8.
    public init() {}
}
