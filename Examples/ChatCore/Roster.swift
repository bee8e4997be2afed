/// A set of objects kept in one contiguous array, each with a companion value, where adding,
/// finding and removing one costs O(1) whatever the size.
///
/// The room keeps its connections in one: ``elements`` is the array the broadcast loop walks,
/// and each connection's companion is its ``Participant`` (or `nil` for a bare stream).
/// Removing an element moves the last one into its place (a swap-remove), so ``elements`` is
/// not in order of insertion. A dictionary from each element's identity to its index finds it.
///
/// ```swift
/// var roster = Roster<TCPStream, Participant?>()
/// roster.insert(stream, nil)
/// Stream.broadcast(line, to: roster.elements, except: nil, queueLimit: 1 << 20) { _ in }
/// roster.remove(stream)                 // the last stream now sits where this one was
/// ```
public struct Roster<Element: AnyObject, Companion> {
    /// The elements present, in no particular order.
    public private(set) var elements: [Element] = []
    /// The companion of each element, at the same index.
    private var companions: [Companion] = []
    /// Each element's index in ``elements``.
    private var indices: [ObjectIdentifier: Int] = [:]
    /// How many elements removals have moved so far: at most one per removal. Tests read it
    /// to check that a removal's work does not grow with the size.
    public private(set) var moves = 0

    /// An empty roster.
    public init() {}

    /// The number of elements present.
    public var count: Int { elements.count }

    /// True if `element` is present.
    public func contains(_ element: Element) -> Bool { indices[ObjectIdentifier(element)] != nil }

    /// The companion of `element`, or `nil` if it is not present.
    public func companion(of element: Element) -> Companion? {
        indices[ObjectIdentifier(element)].map { companions[$0] }
    }

    /// The companions of every element present, in the order of ``elements``.
    public var allCompanions: [Companion] { companions }

    /// Adds `element` with its companion; false (and nothing changes) if it is already present.
    @discardableResult
    public mutating func insert(_ element: Element, _ companion: Companion) -> Bool {
        let key = ObjectIdentifier(element)
        guard indices[key] == nil else { return false }
        indices[key] = elements.count
        elements.append(element)
        companions.append(companion)
        return true
    }

    /// Removes `element`, moving the last element into its place; false if it was not present.
    @discardableResult
    public mutating func remove(_ element: Element) -> Bool {
        guard let index = indices.removeValue(forKey: ObjectIdentifier(element)) else { return false }
        let last = elements.count - 1
        if index != last {
            elements[index] = elements[last]
            companions[index] = companions[last]
            indices[ObjectIdentifier(elements[index])] = index
            moves += 1
        }
        elements.removeLast()
        companions.removeLast()
        return true
    }

    /// Removes every element; returns them with their companions.
    public mutating func removeAll() -> (elements: [Element], companions: [Companion]) {
        defer {
            elements = []
            companions = []
            indices = [:]
        }
        return (elements, companions)
    }
}
