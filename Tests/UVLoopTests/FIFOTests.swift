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
}
