/// The handlers waiting for input on streams without a task (``Stream/whenReadable(_:)``), kept
/// by the loop rather than in every stream. Each waiting stream holds its handler's slot number
/// (32 bits, where a closure would take 16 bytes), so registering and running a handler is an
/// array access, not a hash: an HTTP keep-alive connection does both once per request.
struct ReadHandlerTable {
    private var handlers: [ReadHandler?] = []
    /// Slots whose handler has run, reused before the array grows.
    private var freeSlots: [UInt32] = []

    /// The number of waiting handlers.
    var count: Int { handlers.count - freeSlots.count }
    var isEmpty: Bool { count == 0 }

    /// Keeps `handler` in a free slot and returns the slot's number.
    mutating func insert(_ handler: ReadHandler) -> UInt32 {
        if let slot = freeSlots.popLast() {
            handlers[Int(slot)] = handler
            return slot
        }
        precondition(handlers.count < Int(UInt32.max), "too many streams waiting in whenReadable")
        handlers.append(handler)
        return UInt32(handlers.count - 1)
    }

    /// Replaces the handler in `slot` (a second `whenReadable` before the first ran).
    mutating func replace(at slot: UInt32, with handler: ReadHandler) {
        handlers[Int(slot)] = handler
    }

    /// Takes the handler out of `slot`, which becomes free.
    mutating func remove(at slot: UInt32) -> ReadHandler? {
        let handler = handlers[Int(slot)].take()
        freeSlots.append(slot)
        return handler
    }
}
