import Dispatch
import Synchronization
import Testing
import UVLoop
import UVLoopTestSupport

@Suite("LoopGroup")
struct LoopGroupTests {
    /// What the loops of the test share across threads.
    final class Shared: Sendable {
        let port = Mutex<Int?>(nil)
        let portReady = DispatchSemaphore(value: 0)
        let secondListening = DispatchSemaphore(value: 0)
        let second = Mutex<Loop?>(nil)
        let servedBy = Mutex<[Int]>([])
    }

    @Test("loops on two threads share one port with reusePort and each serves connections")
    func twoLoopsShareAPort() throws {
        let shared = Shared()
        // Not in `shared`, which holds loop 1: the loop's closure would keep it alive.
        let leftOpen = LeakRecorder()
        try LoopGroup.run(count: 2) { loop, index in
            loop.onOpenHandlesAtShutdown = { handles in leftOpen.handles.withLock { $0 += handles } }
            let listener: TCPListener
            if index == 0 {
                listener = try TCPListener(host: "127.0.0.1", port: 0, reusePort: true, on: loop)
                shared.port.withLock { $0 = listener.port }
                shared.portReady.signal()
            } else {
                shared.second.withLock { $0 = loop }
                shared.portReady.wait()  // brief: loop 1 has nothing else to do yet
                // Force-unwrap: loop 0 stored the port before signalling.
                listener = try TCPListener(host: "127.0.0.1", port: shared.port.withLock { $0 }!, reusePort: true, on: loop)
                shared.secondListening.signal()
            }
            defer { listener.close() }
            loop.spawn {
                for try await client in listener.connections {
                    try? client.write("\(index)\n")
                    try? await client.flush()
                    client.close()
                }
            }
            guard index == 0 else {
                // Loop 1 serves until loop 0 stops it.
                try? await loop.sleep(for: .seconds(30))
                return
            }
            // Whatever happens below, loop 1 must not be left serving.
            defer { shared.second.withLock { $0 }?.stop() }
            shared.secondListening.wait()  // brief: until both listeners are in the group
            for _ in 0..<24 {
                let client = try await TCPStream.connect(host: "127.0.0.1", port: listener.port, on: loop)
                defer { client.close() }
                if let line = try await client.readLine(), let served = Int(line) {
                    shared.servedBy.withLock { $0.append(served) }
                }
            }
        }
        let served = shared.servedBy.withLock { $0 }
        #expect(served.count == 24)
        #expect(Set(served) == [0, 1], "the kernel spread connections over both loops")
        #expect(leftOpen.handles.withLock { $0 }.isEmpty, "handles left open: \(leftOpen.handles.withLock { $0 })")
    }

    @Test("an error thrown by one loop's body is rethrown after all loops end")
    func rethrowsErrors() {
        struct Boom: Error {}
        #expect(throws: Boom.self) {
            try LoopGroup.run(count: 2) { _, index in
                if index == 1 { throw Boom() }
            }
        }
    }
}
