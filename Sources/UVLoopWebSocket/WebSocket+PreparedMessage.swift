import UVLoop

extension WebSocket {
    /// A message framed once and sent to many sockets: a fan-out (a chat room, a pub/sub topic)
    /// queues the same frame bytes on every socket instead of framing — allocating and copying
    /// — the message once per recipient.
    ///
    /// The server frame is built on first use and shared; a socket that agreed compression
    /// compresses the payload itself (its compressor's state is its own), and a client masks
    /// each frame with its own key, so both still frame per socket. Belongs to one loop.
    ///
    /// ```swift
    /// let message = WebSocket.PreparedMessage(text: "hello, room")
    /// for socket in sockets { try? socket.enqueue(message, queueLimit: 1 << 20) }
    /// ```
    public final class PreparedMessage {
        let opcode: WebSocketOpcode
        /// The payload as sent uncompressed.
        public let payload: Bytes
        private var serverFrame: Bytes?

        /// A text message.
        public convenience init(text: String) { self.init(.text, Bytes(text)) }

        /// A text message given as UTF-8 bytes; invalid UTF-8 is replaced with U+FFFD, as
        /// ``WebSocket/enqueue(utf8Text:queueLimit:)`` does.
        public convenience init(utf8Text: Bytes) { self.init(.text, WebSocket.validUTF8(utf8Text)) }

        /// A binary message.
        public convenience init(binary: Bytes) { self.init(.binary, binary) }

        init(_ opcode: WebSocketOpcode, _ payload: Bytes) {
            self.opcode = opcode
            self.payload = payload
        }

        /// The unmasked, uncompressed frame a server sends, built once.
        var frame: Bytes {
            if let serverFrame { return serverFrame }
            let frame = WebSocketFrameEncoder.encode(WebSocketFrame(opcode: opcode, payload: payload))
            serverFrame = frame
            return frame
        }
    }

    /// Queues `message` without waiting, bounded by `queueLimit` as
    /// ``enqueue(text:queueLimit:)`` is: a server socket without compression queues the shared
    /// frame itself, without a copy.
    public func enqueue(_ message: PreparedMessage, queueLimit: Int = .max) throws {
        guard state == .open else { throw WebSocketError(.notOpen, peer: stream.description, "send after close") }
        if role == .server, !compressesMessage(ofSize: message.payload.count) {
            try stream.write(message.frame)
        } else {
            try sendMessage(message.opcode, message.payload)
        }
        try checkQueue(limit: queueLimit)
    }

    /// `bytes` if they are valid UTF-8, else a copy with each invalid sequence replaced by U+FFFD.
    static func validUTF8(_ bytes: Bytes) -> Bytes {
        var validator = UTF8Validator()
        let isValid = bytes.withUnsafeBytes { validator.validate($0) } && validator.isComplete
        return isValid ? bytes : Bytes(String(decoding: bytes, as: UTF8.self))
    }
}
