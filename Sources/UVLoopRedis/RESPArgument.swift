import UVLoop

/// A value that can be a command argument: its bytes as a bulk string.
///
/// `String`, `Substring`, ``Bytes``, `[UInt8]` and the integer types conform, so typed
/// helpers take keys and values of any of them: `redis.set("visits", 3)`.
public protocol RESPArgument {
    /// The argument's bytes.
    var respBytes: Bytes { get }
}

extension Bytes: RESPArgument {
    public var respBytes: Bytes { self }
}

extension String: RESPArgument {
    public var respBytes: Bytes { Bytes(self) }
}

extension Substring: RESPArgument {
    public var respBytes: Bytes { Bytes(String(self)) }
}

extension Array: RESPArgument where Element == UInt8 {
    public var respBytes: Bytes { Bytes(self) }
}

extension Int: RESPArgument {
    public var respBytes: Bytes { Bytes(String(self)) }
}

extension Int64: RESPArgument {
    public var respBytes: Bytes { Bytes(String(self)) }
}
