import UVLoop

/// The time limits of a client's commands in flight, kept by one sweeper task instead of a
/// timer and two child tasks per command (which measured as most of the client's time with
/// many commands in flight). Loop thread only.
///
/// Deadlines are kept in one FIFO per distinct time limit, so each FIFO is in deadline order;
/// answered commands are dropped from the fronts as new ones are added, so memory follows the
/// commands in flight. The sweeper sleeps until the earliest unanswered deadline and fails that
/// command with ``RedisError/timeout(_:)``; its reply, if it comes later, is still consumed in
/// order and dropped.
final class ReplyDeadlines {
    private struct Entry {
        let deadline: ContinuousClock.Instant
        let reply: PendingReply
        let command: Bytes
    }

    private let loop: Loop
    private let endpoint: String
    private var queues: [Duration: FIFOQueue<Entry>] = [:]
    private let wake: Event
    private var sweeper: SpawnedTask?
    /// When the sweeper will next look, if it sleeps until a deadline; `nil` while it waits
    /// for a first deadline.
    private var target: ContinuousClock.Instant?

    init(loop: Loop, endpoint: String) {
        self.loop = loop
        self.endpoint = endpoint
        wake = Event(on: loop)
    }

    /// Fails `reply` with a timeout if it is not answered within `timeout` from `start`.
    func add(_ reply: PendingReply, command: Bytes, timeout: Duration, start: ContinuousClock.Instant) {
        let entry = Entry(deadline: start + timeout, reply: reply, command: command)
        queues[timeout, default: FIFOQueue()].dropFront { $0.reply.isFulfilled }
        queues[timeout, default: FIFOQueue()].append(entry)
        if sweeper == nil {
            sweeper = loop.spawn { [weak self] in await self?.sweep() }
        } else if target.map({ entry.deadline < $0 }) ?? true {
            // Only a deadline earlier than the one the sweeper sleeps until needs it awake:
            // with one time limit, that is just the first command after an idle spell.
            wake.set()
        }
    }

    /// Stops the sweeper; limits not yet reached are forgotten.
    func close() {
        sweeper?.cancel()
        sweeper = nil
        queues = [:]
    }

    private func sweep() async {
        while !Task.isCancelled {
            let now = ContinuousClock.now
            var earliest: ContinuousClock.Instant?
            for timeout in queues.keys {
                // Force-unwrap: `timeout` was just read from the dictionary's keys.
                queues[timeout]!.dropFront { $0.reply.isFulfilled }
                while let front = queues[timeout]!.first, front.deadline <= now {
                    _ = queues[timeout]!.popFirst()
                    let name = front.command.string.uppercased()
                    front.reply.fulfil(.failure(.timeout("redis \(endpoint): \(name) timed out after \(formatSeconds(timeout))")))
                    queues[timeout]!.dropFront { $0.reply.isFulfilled }
                }
                if let front = queues[timeout]!.first {
                    earliest = min(earliest ?? front.deadline, front.deadline)
                } else {
                    queues[timeout] = nil
                }
            }
            wake.clear()
            target = earliest
            do {
                if let earliest {
                    try await loop.withTimeout(earliest - now) { try await wake.wait() }
                } else {
                    try await wake.wait()
                }
            } catch is TimeoutError {
                continue
            } catch {
                return
            }
        }
    }
}

/// A first-in first-out queue with O(1) removal from the front.
struct FIFOQueue<Element> {
    private var entries: [Element?] = []
    private var head = 0

    var count: Int { entries.count - head }
    var first: Element? { head < entries.count ? entries[head] : nil }

    mutating func append(_ element: Element) { entries.append(element) }

    mutating func popFirst() -> Element? {
        guard head < entries.count else { return nil }
        let first = entries[head]
        entries[head] = nil
        head += 1
        if head == entries.count {
            entries.removeAll(keepingCapacity: entries.count <= 4096)
            head = 0
        } else if head >= 1024 && head * 2 >= entries.count {
            entries.removeFirst(head)
            head = 0
        }
        return first
    }

    /// Removes elements from the front while `predicate` holds.
    mutating func dropFront(while predicate: (Element) -> Bool) {
        while let front = first, predicate(front) { _ = popFirst() }
    }
}
