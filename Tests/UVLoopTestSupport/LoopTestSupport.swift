import Synchronization
import Testing
import UVLoop

// Shared by the test targets (UVLoopTests, ChatCoreTests): running a test on its own loop, and
// small helpers for sockets.

/// Handles a loop reported open at shutdown.
public final class LeakRecorder: Sendable {
    public init() {}
    public let handles = Mutex<[String]>([])
}

/// Runs `body` on a fresh loop on its own thread and returns its result; the test fails if any
/// handle is still open when the loop shuts down.
public func onLoop<T: Sendable>(
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: @escaping @Sendable (Loop) async throws -> T
) async throws -> T {
    let leaks = LeakRecorder()
    let result = try await Loop.runOnNewThread { loop in
        loop.onOpenHandlesAtShutdown = { handles in leaks.handles.withLock { $0 = handles } }
        return try await body(loop)
    }
    let left = leaks.handles.withLock { $0 }
    #expect(left.isEmpty, "handles left open: \(left)", sourceLocation: sourceLocation)
    return result
}

/// A connected pair of TCP streams on `loop`: (client side, server side).
public func connectedPair(on loop: Loop, host: String = "127.0.0.1") async throws -> (TCPStream, TCPStream) {
    let listener = try TCPListener(host: host, port: 0, on: loop)
    defer { listener.close() }
    let client = try await TCPStream.connect(host: host, port: listener.port, on: loop)
    let server = try await listener.accept()
    return (client, server)
}

/// Something a test opens and must close: streams, UDP sockets.
public protocol Closable: AnyObject {
    func close()
}

extension Stream: Closable {}
extension UDPSocket: Closable {}

/// Closes each of `things`, so a test's `defer` is one line.
public func close(_ things: any Closable...) {
    for thing in things { thing.close() }
}
