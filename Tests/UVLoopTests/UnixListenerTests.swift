import Synchronization
import Testing
import UVLoopTestSupport

@testable import UVLoop

#if canImport(Glibc)
    import Glibc
#endif

/// The Unix listener's own accepting, as for `TCPListenerTests`: failures reported once and
/// paced, the ready-ahead limit, waiters, close. Failures are injected through `acceptSocket`.
/// (Round trips, paths in use and the socket file's removal are in `PipeTests`.)
@Suite("UnixListener")
struct UnixListenerTests {
    @Test("a failed accept throws EMFILE naming the path, then retries after 5, 10, 20 ms and resumes by itself")
    func acceptFailureBacksOff() async throws {
        let result = try await onCheckedLoop { loop -> (path: String, errors: [String], gaps: [Duration], calls: Int, line: String?) in
            try await withTemporaryDirectory { dir in
                let listener = try UnixListener(path: dir.file("f.sock"), on: loop)
                defer { listener.close() }
                let failures = InjectedAcceptFailures(failures: 4)
                listener.acceptSocket = failures.accept
                let client = try await PipeStream.connect(path: listener.path, on: loop)
                defer { client.close() }
                // Like a server's accept loop, but with no pause of its own: it calls again at once.
                let (accepted, errors) = await acceptRetryingAtOnce { try await listener.accept() }
                let server = try #require(accepted)
                defer { server.close() }
                // The pending client was kept in the backlog, not reset: it is served.
                try server.write("served after the failures\n")
                let line = try await client.readLine()
                return (listener.path, errors, failures.gaps, failures.calls, line)
            }
        }
        let message = "accept on Unix socket \(result.path) failed: EMFILE (too many open files)"
        #expect(result.errors == Array(repeating: message, count: 4))
        #expect(result.line == "served after the failures")
        // 4 failures, the connection, and the EAGAIN that ends the batch: no spinning.
        #expect(result.calls <= 6)
        expectDoublingPauses(result.gaps)
    }

    @Test("while accepting keeps failing it tries only a few times, reports once, and resumes once it can")
    func persistentFailureDoesNotSpin() async throws {
        let result = try await onCheckedLoop { loop -> (tries: Int, first: String, then: String?) in
            try await withTemporaryDirectory { dir in
                let listener = try UnixListener(path: dir.file("p.sock"), on: loop)
                defer { listener.close() }
                var isOutOfDescriptors = true
                var calls = 0
                listener.acceptSocket = { fd in
                    calls += 1
                    return isOutOfDescriptors ? -EMFILE : ListeningSocket.accept(fd)
                }
                let client = try await PipeStream.connect(path: listener.path, on: loop)
                defer { client.close() }
                try client.write("the pending client\n")
                // A window to count tries in, not a synchronisation: with a connection pending and
                // nobody calling accept(), a listener that retried at once would try thousands of times.
                try await loop.sleep(for: .milliseconds(200))
                let tries = calls
                isOutOfDescriptors = false
                let first = await outcome { try await listener.accept() }
                let server = try await listener.accept()
                defer { server.close() }
                return (tries, first, try await server.readLine())
            }
        }
        // Tries at about 0, 5, 15, 35, 75 and 155 ms.
        #expect((2...8).contains(result.tries), "\(result.tries) tries in 200 ms")
        #expect(result.first == "EMFILE")
        #expect(result.then == "the pending client")
    }

    @Test("accepts at most 16 connections ahead of accept() calls and leaves the rest in the backlog")
    func readyAheadLimit() async throws {
        let result = try await onLoop { loop -> (accepted: Int, ready: Int, isPolling: Bool, lines: Set<String>) in
            try await withTemporaryDirectory { dir in
                let listener = try UnixListener(path: dir.file("r.sock"), on: loop)
                defer { listener.close() }
                var accepted = 0
                listener.acceptSocket = { fd in
                    let socket = ListeningSocket.accept(fd)
                    if socket >= 0 { accepted += 1 }
                    return socket
                }
                var clients: [PipeStream] = []
                defer { for client in clients { client.close() } }
                for index in 0..<40 {
                    let client = try await PipeStream.connect(path: listener.path, on: loop)
                    clients.append(client)
                    try client.write("client \(index)\n")
                }
                let ahead = (accepted, listener.readyCount, listener.isPolling)
                var lines: Set<String> = []
                for _ in 0..<40 {
                    let server = try await listener.accept()
                    lines.insert(try await server.readLine() ?? "<eof>")
                    server.close()
                }
                return (ahead.0, ahead.1, ahead.2, lines)
            }
        }
        #expect(UnixListener.readyLimit == 16)
        #expect(result.accepted == 16)
        #expect(result.ready == 16)
        #expect(!result.isPolling, "a full ready queue stops polling")
        #expect(result.lines == Set((0..<40).map { "client \($0)" }))
    }

    @Test("an accept cancelled from another thread ends promptly and the listener stays usable")
    func acceptCancelledFromAnotherThread() async throws {
        let outcome = try await onLoop { loop -> [String] in
            try await withTemporaryDirectory { dir in
                let listener = try UnixListener(path: dir.file("c.sock"), on: loop)
                defer { listener.close() }
                var outcome: [String] = []
                let acceptor = loop.spawn {
                    do { _ = try await listener.accept() } catch is CancellationError { outcome.append("cancelled") }
                }
                await Task.yield()  // the acceptor runs first and waits
                await Task.detached { acceptor.cancel() }.value
                await acceptor.value
                let client = try await PipeStream.connect(path: listener.path, on: loop)
                let server = try await listener.accept()
                defer { close(client, server) }
                try client.write("after the cancelled accept\n")
                outcome.append(try await server.readLine() ?? "<eof>")
                return outcome
            }
        }
        #expect(outcome == ["cancelled", "after the cancelled accept"])
    }

    @Test("close ends the connections accepted ahead, resets those still in the backlog, and removes the file")
    func closeWithPendingConnections() async throws {
        let result = try await onLoop { loop -> (outcomes: [String: Int], fileLeft: Bool) in
            try await withTemporaryDirectory { dir in
                let listener = try UnixListener(path: dir.file("d.sock"), on: loop)
                var clients: [PipeStream] = []
                defer { for client in clients { client.close() } }
                for _ in 0..<20 { clients.append(try await PipeStream.connect(path: listener.path, on: loop)) }
                listener.close()
                var outcomes: [String: Int] = [:]
                for client in clients { outcomes[await outcome { try await client.readLine() }, default: 0] += 1 }
                return (outcomes, access(listener.path, F_OK) == 0)
            }
        }
        // End of stream for the 16 accepted ahead; a reset for the 4 in the backlog.
        #expect(result.outcomes == ["nil": 16, "ECONNRESET": 4])
        #expect(!result.fileLeft, "socket file left behind")
    }

    @Test("a listener left open is reported and closed at loop shutdown, removing its file")
    func leftOpenAtShutdown() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("left.sock")
        let leftOpen = Mutex<[String]>([])
        try await Loop.runOnNewThread { loop in
            loop.onOpenHandlesAtShutdown = { handles in leftOpen.withLock { $0 = handles } }
            _ = try UnixListener(path: path, on: loop)
        }
        #expect(leftOpen.withLock { $0 } == ["Unix listener \(path)"])
        #expect(access(path, F_OK) != 0, "socket file left behind")
    }

    @Test("a path too long for a Unix socket address fails with ENAMETOOLONG naming it, and makes no file")
    func pathTooLong() async throws {
        let result = try await onLoop { loop -> (error: String, files: Int) in
            try await withTemporaryDirectory { dir in
                // 108 bytes: sun_path holds 107 and the terminating zero. libuv 1.44 cut it short.
                let path = dir.file(String(repeating: "n", count: 108 - dir.path.utf8.count - 1))
                #expect(path.utf8.count == 108)
                let error = outcomeDescription { try UnixListener(path: path, on: loop) }
                return (error, try entryCount(of: dir.path))
            }
        }
        #expect(result.error.hasPrefix("listen on Unix socket /tmp/uvloop-test-"))
        #expect(result.error.hasSuffix("nnn failed: ENAMETOOLONG (name too long)"))
        #expect(result.files == 0)
    }

    @Test("a path of 107 bytes, the most that fits, works")
    func longestPath() async throws {
        let line = try await onLoop { loop -> String? in
            try await withTemporaryDirectory { dir in
                let path = dir.file(String(repeating: "m", count: 107 - dir.path.utf8.count - 1))
                let listener = try UnixListener(path: path, on: loop)
                defer { listener.close() }
                let client = try await PipeStream.connect(path: path, on: loop)
                let server = try await listener.accept()
                defer { close(client, server) }
                #expect(server.localPath == path)
                try client.write("fits\n")
                return try await server.readLine()
            }
        }
        #expect(line == "fits")
    }

    @Test("a path in a missing directory fails with ENOENT naming the path")
    func missingDirectory() async throws {
        let error = try await onLoop { loop -> String in
            try await withTemporaryDirectory { dir in
                outcomeDescription { try UnixListener(path: dir.file("none/s.sock"), on: loop) }
            }
        }
        #expect(error.hasPrefix("listen on Unix socket /tmp/uvloop-test-"))
        #expect(error.hasSuffix("/none/s.sock failed: ENOENT (no such file or directory)"))
    }
}

/// The description of the error `body` throws (closing the listener if it made one).
private func outcomeDescription(_ body: () throws -> UnixListener) -> String {
    do {
        try body().close()
        return "listening"
    } catch {
        return "\(error)"
    }
}

/// The number of entries in the directory at `path`, besides `.` and `..`.
private func entryCount(of path: String) throws -> Int {
    guard let dir = opendir(path) else { throw POSIXError(errno) }
    defer { closedir(dir) }
    var count = 0
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        if name != "." && name != ".." { count += 1 }
    }
    return count
}
