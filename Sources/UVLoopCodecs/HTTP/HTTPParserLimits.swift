/// The limits ``HTTPParser`` enforces, with the defaults a production server would choose.
public struct HTTPParserLimits: Sendable, Equatable {
    /// The most bytes of header section (after the request or status line), and of trailers:
    /// over it, ``HTTPParseError/Kind/headerTooLarge`` (431). Default 32 KiB.
    public var maxHeaderBytes: Int
    /// The most header fields, and trailer fields: over it, 431. Default 100.
    public var maxFieldCount: Int
    /// The longest request target: over it, ``HTTPParseError/Kind/targetTooLong`` (414).
    /// Default 8 KiB.
    public var maxTargetLength: Int
    /// The largest body (declared or received): over it, ``HTTPParseError/Kind/bodyTooLarge``
    /// (413). Default 8 MiB.
    public var maxBodyBytes: Int

    /// Limits with the given values (each defaults as documented on its property).
    public init(
        maxHeaderBytes: Int = 32 * 1024,
        maxFieldCount: Int = 100,
        maxTargetLength: Int = 8 * 1024,
        maxBodyBytes: Int = 8 * 1024 * 1024
    ) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxFieldCount = maxFieldCount
        self.maxTargetLength = maxTargetLength
        self.maxBodyBytes = maxBodyBytes
    }
}
