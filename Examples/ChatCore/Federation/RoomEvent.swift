import UVLoop

/// Something said or done in a room by one of its own participants, which the other processes
/// of a federation relay to theirs (see ``Federation``).
enum RoomEvent {
    /// A line as the others see it (`ada: hi`, `* ada waves`), or a plain-mode line byte for byte.
    case line(Bytes)
    /// A participant joined under this name.
    case joined(String)
    /// A participant left; the line tells why.
    case left(String, Bytes)
    /// A participant changed its name.
    case renamed(from: String, to: String)
}
