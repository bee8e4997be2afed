/// One WebSocket frame, its payload already unmasked.
public struct WebSocketFrame: Sendable, Equatable {
    /// FIN: this frame ends its message.
    public var isFinal: Bool
    /// RSV1–RSV3 as the bits 0b100, 0b010, 0b001; permessage-deflate uses RSV1 (0b100).
    public var reservedBits: UInt8
    /// What the payload is.
    public var opcode: WebSocketOpcode
    /// The application (or extension) data, unmasked.
    public var payload: Bytes

    /// RSV1, which permessage-deflate sets on the first frame of a compressed message.
    public static let rsv1: UInt8 = 0b100

    /// A frame; by default final and without reserved bits.
    public init(opcode: WebSocketOpcode, payload: Bytes, isFinal: Bool = true, reservedBits: UInt8 = 0) {
        self.isFinal = isFinal
        self.reservedBits = reservedBits
        self.opcode = opcode
        self.payload = payload
    }
}
