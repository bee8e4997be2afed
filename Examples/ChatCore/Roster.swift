import UVLoop
import UVLoopWebSocket

/// An object that a ``Roster`` can hold: it keeps its own index in the roster, so the roster
/// finds and removes it in O(1) without a dictionary from objects to indices.
public protocol RosterMember: AnyObject {
    /// The member's index in the roster that holds it, set by the roster; `nil` in none. An
    /// object belongs to at most one roster at a time.
    var rosterIndex: Int? { get set }
}

extension TCPStream: RosterMember {
    /// The stream's ``Stream/collectionIndex``: a room's streams are in one roster only.
    public var rosterIndex: Int? {
        get { collectionIndex }
        set { collectionIndex = newValue }
    }
}

extension WebSocket: RosterMember {
    /// The socket's `collectionIndex`: a room's browsers are in one roster only.
    public var rosterIndex: Int? {
        get { collectionIndex }
        set { collectionIndex = newValue }
    }
}

/// A set of objects kept in one contiguous array, each with an optional companion value, where
/// adding, finding and removing one costs O(1) whatever the size.
///
/// The room keeps its connections in one: ``elements`` is the array the broadcast loop walks,
/// and each connection's companion is its ``Participant`` (none for a bare stream). Removing an
/// element moves the last one into its place (a swap-remove), so ``elements`` is not in order of
/// insertion. Each element keeps its own index (``RosterMember``), checked against ``elements``
/// before it is trusted, so an object that is not in this roster is never taken for one that is.
/// Companions are stored only once one element has one: a roster of bare streams (`--plain`)
/// spends nothing per element beyond its slot in ``elements``.
///
/// ```swift
/// var roster = Roster<TCPStream, Participant>()
/// roster.insert(stream, nil)
/// Stream.broadcast(line, to: roster.elements, except: nil, queueLimit: 1 << 20) { _ in }
/// roster.remove(stream)                 // the last stream now sits where this one was
/// ```
public struct Roster<Element: RosterMember, Companion> {
    /// The elements present, in no particular order.
    public private(set) var elements: [Element] = []
    /// The companion of each element, at the same index; empty while no element has one.
    /// Invariant: empty, or exactly as long as ``elements``.
    private var companions: [Companion?] = []
    /// How many elements removals have moved so far: at most one per removal. Tests read it
    /// to check that a removal's work does not grow with the size.
    public private(set) var moves = 0

    /// An empty roster.
    public init() {}

    /// The number of elements present.
    public var count: Int { elements.count }

    /// The index of `element`, if it is present.
    private func index(of element: Element) -> Int? {
        guard let index = element.rosterIndex, index < elements.count, elements[index] === element else { return nil }
        return index
    }

    /// True if `element` is present.
    public func contains(_ element: Element) -> Bool { index(of: element) != nil }

    /// The companion of `element`; `nil` if it has none or is not present (``contains(_:)`` tells).
    public func companion(of element: Element) -> Companion? {
        guard !companions.isEmpty, let index = index(of: element) else { return nil }
        return companions[index]
    }

    /// The companions of every element present, in the order of ``elements`` (`nil` for an
    /// element without one).
    public var allCompanions: [Companion?] {
        companions.isEmpty ? Array(repeating: nil, count: elements.count) : companions
    }

    /// Adds `element` with its companion, if any; false (and nothing changes) if it is already
    /// present.
    @discardableResult
    public mutating func insert(_ element: Element, _ companion: Companion?) -> Bool {
        guard index(of: element) == nil else { return false }
        if companions.isEmpty, companion != nil {
            companions = Array(repeating: nil, count: elements.count)
        }
        element.rosterIndex = elements.count
        elements.append(element)
        if !companions.isEmpty || companion != nil { companions.append(companion) }
        return true
    }

    /// Removes `element`, moving the last element into its place; false if it was not present.
    @discardableResult
    public mutating func remove(_ element: Element) -> Bool {
        guard let index = index(of: element) else { return false }
        let last = elements.count - 1
        if index != last {
            elements[index] = elements[last]
            if !companions.isEmpty { companions[index] = companions[last] }
            elements[index].rosterIndex = index
            moves += 1
        }
        elements.removeLast()
        if !companions.isEmpty { companions.removeLast() }
        element.rosterIndex = nil
        return true
    }

    /// Removes every element; returns them with their companions (`nil` for none), index by index.
    public mutating func removeAll() -> (elements: [Element], companions: [Companion?]) {
        for element in elements { element.rosterIndex = nil }
        let all = (elements, allCompanions)
        elements = []
        companions = []
        return all
    }
}
