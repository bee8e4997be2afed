import Testing
import UVLoopTestSupport

@testable import UVLoop

/// `Stream.whenReadable`: waiting for input without a task.
@Suite("Stream whenReadable", .timeLimit(.minutes(1)))
struct StreamWhenReadableTests {
    @Test("calls the handler once when bytes arrive, with no task reading; the bytes are then read at once")
    func bytesArrive() async throws {
        let outcome = try await onLoop { loop -> (Int, String?, Int) in
            let (client, server) = try await connectedPair(on: loop)
            defer { close(client, server) }
            let called = Event(on: loop)
            var calls = 0
            #expect(
                server.whenReadable {
                    calls += 1
                    called.set()
                })
            #expect(calls == 0)
            try client.write("hi\n")
            try await called.wait()
            let line = try await server.readLine()
            try client.write("again\n")
            _ = try await server.readLine()
            return (calls, line, loop.readHandlers.count)
        }
        #expect(outcome.0 == 1)
        #expect(outcome.1 == "hi")
        #expect(outcome.2 == 0)
    }

    @Test("calls the handler at once when bytes are already buffered")
    func alreadyBuffered() async throws {
        let outcome = try await onLoop { loop -> (Int, Bool) in
            let (client, server) = try await connectedPair(on: loop)
            defer { close(client, server) }
            // One small write on loopback arrives in one read: the second line stays buffered.
            try client.write("one\ntwo\n")
            _ = try await server.readLine()
            var called = false
            server.whenReadable { called = true }
            return (server.reader.bufferedByteCount, called)
        }
        #expect(outcome.0 == 4)
        #expect(outcome.1)
    }

    @Test("calls the handler when the peer closes and when the stream is closed here")
    func endAndClose() async throws {
        let outcome = try await onLoop { loop -> (Bytes?, Bool, Bool) in
            let (client, server) = try await connectedPair(on: loop)
            let ended = Event(on: loop)
            server.whenReadable { ended.set() }
            client.close()
            try await ended.wait()
            let atEnd = try await server.read()
            let (other, peer) = try await connectedPair(on: loop)
            defer { close(other, peer, server) }
            var closedCalled = false
            peer.whenReadable { closedCalled = true }
            peer.close()
            return (atEnd, closedCalled, loop.readHandlers.isEmpty)
        }
        #expect(outcome.0 == nil)
        #expect(outcome.1)
        #expect(outcome.2)
    }
}
