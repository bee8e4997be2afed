/// A first-in, first-out queue over one array: appends at the end, takes from a moving head.
///
/// Taken slots are cleared at once (a taken element is not kept alive), and the array is
/// compacted once the taken prefix is at least half of it, so a queue that is never fully
/// drained still holds only about twice its count. O(1) amortised at both ends.
struct FIFO<Element> {
    private var slots: [Element?] = []
    private var head = 0

    /// The number of elements queued.
    var count: Int { slots.count - head }

    /// Slots held, taken or not (for tests of the compaction).
    var slotCount: Int { slots.count }

    /// True when nothing is queued.
    var isEmpty: Bool { head == slots.count }

    /// Queues `element` last.
    mutating func append(_ element: Element) {
        slots.append(element)
    }

    /// Takes the oldest element, or returns `nil` if none is queued.
    mutating func popFirst() -> Element? {
        guard head < slots.count else { return nil }
        let element = slots[head].take()
        head += 1
        if head == slots.count {
            slots.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 16 && head * 2 >= slots.count {
            slots.removeFirst(head)
            head = 0
        }
        return element
    }
}
