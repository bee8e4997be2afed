/// An object's index in the one collection its owner keeps it in (``Stream/collectionIndex``,
/// `WebSocket.collectionIndex`), in 32 bits so that it fits a gap in the object's layout:
/// `nil` until set, at most `UInt32.max - 1`.
package struct CollectionSlot {
    private var raw = UInt32.max

    package init() {}

    /// The index, or `nil` for none.
    package var index: Int? {
        get { raw == .max ? nil : Int(raw) }
        set {
            guard let newValue else {
                raw = .max
                return
            }
            precondition(newValue >= 0 && newValue < Int(UInt32.max), "collectionIndex \(newValue) out of range")
            raw = UInt32(newValue)
        }
    }
}
