/// A first-in, first-out queue on a ring buffer: O(1) to append, to take the oldest element,
/// and to remove any element by the ``Handle`` its `append` returned.
///
/// The one queue of the library: the executor's jobs, waiting tasks (``WaitQueue``), accepted
/// connections, received datagrams and handle events. A removed element leaves a tombstone
/// that ``popFirst()`` skips; tombstones at either end are dropped at once, and the buffer is
/// reset whenever the queue empties. A taken or removed element is released at once.
struct FIFO<Element> {
    /// Names one appended element until it is taken or removed: its place in the sequence of
    /// every element ever appended, so a stale handle names nothing.
    typealias Handle = Int

    /// A power of two (or empty), so that positions wrap with a mask.
    private var slots: [Element?] = []
    /// The slot of the oldest element or tombstone.
    private var head = 0
    /// Slots in use from `head` on, tombstones included.
    private var used = 0
    /// The handle of the element at `head`.
    private var headHandle = 0

    /// The number of elements queued (tombstones not counted).
    private(set) var count = 0

    /// Slots held, used or not (for tests of the memory kept).
    var slotCount: Int { slots.count }

    /// True when nothing is queued.
    var isEmpty: Bool { count == 0 }

    /// The handle the next `append` returns.
    var nextHandle: Handle { headHandle + used }

    /// Queues `element` last; returns its handle for ``remove(_:)``.
    @discardableResult
    mutating func append(_ element: Element) -> Handle {
        if used == slots.count { grow() }
        slots[(head + used) & (slots.count - 1)] = element
        used += 1
        count += 1
        return headHandle + used - 1
    }

    /// Takes the oldest element, or returns `nil` if none is queued.
    mutating func popFirst() -> Element? {
        while used > 0 {
            let element = slots[head].take()
            advanceHead()
            if let element {
                count -= 1
                return element
            }
        }
        return nil
    }

    /// The oldest element, left queued.
    var first: Element? {
        var offset = 0
        while offset < used {
            if let element = slots[(head + offset) & (slots.count - 1)] { return element }
            offset += 1
        }
        return nil
    }

    /// Removes the element `handle` names and returns it; `nil` if it was taken or removed.
    @discardableResult
    mutating func remove(_ handle: Handle) -> Element? {
        let offset = handle - headHandle
        guard offset >= 0, offset < used, let element = slots[(head + offset) & (slots.count - 1)].take() else { return nil }
        count -= 1
        if count == 0 {
            // Only tombstones are left.
            headHandle += used
            head = 0
            used = 0
        } else if offset == 0 {
            while slots[head] == nil { advanceHead() }
        } else if offset == used - 1 {
            while slots[(head + used - 1) & (slots.count - 1)] == nil { used -= 1 }
        }
        return element
    }

    /// Takes every element, oldest first.
    mutating func removeAll() -> [Element] {
        var all: [Element] = []
        all.reserveCapacity(count)
        while let element = popFirst() { all.append(element) }
        return all
    }

    private mutating func advanceHead() {
        head = (head + 1) & (slots.count - 1)
        used -= 1
        headHandle += 1
        if used == 0 { head = 0 }
    }

    private mutating func grow() {
        var bigger = [Element?](repeating: nil, count: max(16, slots.count * 2))
        for offset in 0..<used { bigger[offset] = slots[(head + offset) & (slots.count - 1)].take() }
        slots = bigger
        head = 0
    }
}
