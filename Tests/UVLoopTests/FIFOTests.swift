import Testing

@testable import UVLoop

@Suite("FIFO")
struct FIFOTests {
    @Test("elements come out in the order they went in, across compactions")
    func order() {
        var queue = FIFO<Int>()
        var out: [Int] = []
        for value in 0..<1000 {
            queue.append(value)
            if value % 3 == 0, let first = queue.popFirst() { out.append(first) }
        }
        while let first = queue.popFirst() { out.append(first) }
        #expect(out == Array(0..<1000))
        #expect(queue.isEmpty && queue.popFirst() == nil)
    }

    @Test("a queue that is never fully drained keeps about twice its count, not every element ever queued")
    func boundedWhileNeverDrained() {
        var queue = FIFO<Int>()
        for value in 0..<10 { queue.append(value) }
        var largest = 0
        for value in 10..<100_000 {
            queue.append(value)
            _ = queue.popFirst()
            largest = max(largest, queue.slotCount)
        }
        #expect(queue.count == 10)
        #expect(largest <= 2 * 10 + 16, "held \(largest) slots for 10 elements")
    }

    @Test("a taken element is released at once")
    func releasesTaken() {
        final class Token {}
        var queue = FIFO<Token>()
        weak var first: Token?
        do {
            let token = Token()
            first = token
            queue.append(token)
            queue.append(Token())
            queue.append(Token())
        }
        _ = queue.popFirst()
        #expect(first == nil)
        #expect(queue.count == 2)
    }

    @Test("an element removed by its handle never comes out; the others keep their order")
    func removeByHandle() {
        var queue = FIFO<Int>()
        let handles = (0..<100).map { queue.append($0) }
        for value in stride(from: 1, to: 100, by: 3) { #expect(queue.remove(handles[value]) == value) }
        #expect(queue.remove(handles[1]) == nil, "a handle names its element once")
        #expect(queue.count == 100 - 33)
        var out: [Int] = []
        while let first = queue.popFirst() { out.append(first) }
        #expect(out == (0..<100).filter { $0 % 3 != 1 })
    }

    @Test("a handle of a taken element names nothing, even after the ring wraps")
    func staleHandle() {
        var queue = FIFO<Int>()
        let first = queue.append(0)
        _ = queue.popFirst()
        for value in 1...40 {
            queue.append(value)
            if value % 2 == 0 { _ = queue.popFirst() }
        }
        #expect(queue.remove(first) == nil)
        #expect(queue.count == 20)
        #expect(queue.first == 21)
    }

    @Test("removing every element in any order leaves no slots in use")
    func removeAll() {
        var queue = FIFO<Int>()
        let handles = (0..<1000).map { queue.append($0) }
        for handle in handles.reversed() where handle % 2 == 0 { queue.remove(handle) }
        for handle in handles where handle % 2 == 1 { queue.remove(handle) }
        #expect(queue.isEmpty && queue.popFirst() == nil)
        queue.append(7)
        #expect(queue.removeAll() == [7])
    }
}
