import Testing
import UVLoopTestSupport

@testable import UVLoop

#if canImport(Glibc)
    import Glibc
#endif

/// `for try await connection in listener.connections`: rides out transient failures, ends on
/// close or cancellation.
@Suite("Listener.connections")
struct ListenerConnectionsTests {
    /// Connects `count` clients to `connect`, then takes `count` connections from `listener`
    /// while `failures` injects EMFILE; returns the connections' count and the failures reported.
    private func takeConnections<Connection>(
        from listener: Listener<Connection>, count: Int, connect: () async throws -> Stream
    ) async throws -> (accepted: Int, reported: [String], afterClose: Bool) {
        let failures = InjectedAcceptFailures(failures: 3)
        listener.acceptSocket = failures.accept
        var clients: [Stream] = []
        defer { for client in clients { client.close() } }
        for _ in 0..<count { clients.append(try await connect()) }
        var reported: [String] = []
        var accepted = 0
        for try await connection in listener.connections(onFailure: { reported.append($0.name) }) {
            connection.close()
            accepted += 1
            if accepted == count { listener.close() }
        }
        return (accepted, reported, listener.isClosed)
    }

    @Test("a TCP listener whose accept fails with EMFILE keeps yielding connections, and ends on close")
    func tcp() async throws {
        let result = try await onLoop { loop in
            let listener = try TCPListener(host: "127.0.0.1", port: 0, on: loop)
            return try await takeConnections(from: listener, count: 3) {
                try await TCPStream.connect(host: "127.0.0.1", port: listener.port, on: loop)
            }
        }
        #expect(result.accepted == 3)
        // Each failure is reported unless one is already queued for the next call (a slow loop).
        #expect((1...3).contains(result.reported.count) && Set(result.reported) == ["EMFILE"], "reported \(result.reported)")
        #expect(result.afterClose)
    }

    @Test("a Unix listener whose accept fails with EMFILE keeps yielding connections, and ends on close")
    func unix() async throws {
        let result = try await onLoop { loop in
            let dir = try TemporaryDirectory()
            defer { dir.remove() }
            let listener = try UnixListener(path: dir.file("s"), on: loop)
            return try await takeConnections(from: listener, count: 3) {
                try await PipeStream.connect(path: dir.file("s"), on: loop)
            }
        }
        #expect(result.accepted == 3)
        // Each failure is reported unless one is already queued for the next call (a slow loop).
        #expect((1...3).contains(result.reported.count) && Set(result.reported) == ["EMFILE"], "reported \(result.reported)")
        #expect(result.afterClose)
    }

    @Test("cancelling the iterating task ends the sequence with nil; the listener stays open")
    func cancellation() async throws {
        let result = try await onLoop { loop -> (String, Bool) in
            let listener = try TCPListener(host: "127.0.0.1", port: 0, on: loop)
            defer { listener.close() }
            var outcome = "running"
            let task = loop.spawn {
                for try await connection in listener.connections { connection.close() }
                outcome = "ended"
            }
            await Task.yield()
            task.cancel()
            await task.value
            return (outcome, listener.isClosed)
        }
        #expect(result.0 == "ended")
        #expect(!result.1)
    }

    @Test("a failure that does not pass is thrown")
    func otherFailure() async throws {
        let thrown = try await onLoop { loop -> String in
            let listener = try TCPListener(host: "127.0.0.1", port: 0, on: loop)
            defer { listener.close() }
            listener.acceptSocket = { _ in -EPROTONOSUPPORT }
            let client = try await TCPStream.connect(host: "127.0.0.1", port: listener.port, on: loop)
            defer { client.close() }
            do {
                for try await connection in listener.connections { connection.close() }
                return "ended"
            } catch let error as UVError {
                return error.name
            }
        }
        #expect(thrown == "EPROTONOSUPPORT")
    }
}
