import Testing
import UVLoop
import UVLoopTestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// A listening socket that never accepts, with its accept queue full, so a further connect to
/// it hangs (the kernel drops the SYN) until the caller gives up.
final class FullBacklog {
    let fd: Int32
    let port: Int
    private var fillers: [Int32] = []

    init() {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        listen(fd, 0)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        port = Int(UInt16(bigEndian: address.sin_port))
        // With backlog 0 the queue holds one connection; fill it (and one more, to be sure).
        for _ in 0..<2 {
            let filler = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(filler, $0, length) } }
            fillers.append(filler)
        }
    }

    deinit {
        for filler in fillers { Glibc.close(filler) }
        Glibc.close(fd)
    }
}

@Suite("TCP failures")
struct TCPFailureTests {
    @Test("a connect that hangs is cancelled promptly, leaving no handle behind")
    func cancelledConnect() async throws {
        let backlog = FullBacklog()
        let port = backlog.port
        let (outcome, elapsed) = try await onLoop { loop -> (String, Duration) in
            var outcome = "connected"
            let start = ContinuousClock.now
            let connector = loop.spawn {
                do {
                    let stream = try await TCPStream.connect(host: "127.0.0.1", port: port, on: loop)
                    stream.close()
                } catch is CancellationError {
                    outcome = "cancelled"
                } catch {
                    outcome = "\(error)"
                }
            }
            try await loop.sleep(for: .milliseconds(50))
            connector.cancel()
            await connector.value
            return (outcome, ContinuousClock.now - start)
        }
        #expect(outcome == "cancelled")
        // Far below the kernel's own give-up (over a minute of SYN retries), and loose enough for
        // a loaded machine running every suite at once (2.2 s seen).
        #expect(elapsed < .seconds(10))
    }

    @Test("withTimeout bounds a connect that hangs")
    func connectTimeout() async throws {
        let backlog = FullBacklog()
        let port = backlog.port
        let timedOut = try await onLoop { loop -> Bool in
            do {
                let stream = try await loop.withTimeout(.milliseconds(100)) {
                    try await TCPStream.connect(host: "127.0.0.1", port: port, on: loop)
                }
                stream.close()
                return false
            } catch is TimeoutError {
                return true
            }
        }
        #expect(timedOut)
    }

    @Test("writing to a peer that reset gives EPIPE or ECONNRESET (isConnectionReset, not isClosed), never SIGPIPE")
    func writeAfterPeerReset() async throws {
        let errors = try await onLoop { loop -> [UVError] in
            let (client, server) = try await connectedPair(on: loop)
            defer { server.close() }
            client.reset()
            // Reading sees the reset (or the end) first.
            _ = try? await server.readLine()
            var errors: [UVError] = []
            for _ in 0..<5 {
                do {
                    try server.write(Bytes([UInt8](repeating: 0x78, count: 64 * 1024)))
                    try await server.flush()
                } catch let error as UVError {
                    errors.append(error)
                    break
                }
            }
            return errors
        }
        #expect(errors.count == 1)
        #expect([UVError.Code.brokenPipe, UVError.Code.connectionReset].contains(errors.first?.code ?? 0))
        #expect(errors.first?.isConnectionReset == true && errors.first?.isClosed == false)
    }

    @Test("reading from a peer that reset ends with ECONNRESET or end of stream")
    func readAfterPeerReset() async throws {
        let outcome = try await onLoop { loop -> String in
            let (client, server) = try await connectedPair(on: loop)
            defer { server.close() }
            try server.write("unread\n")
            try await server.flush()
            try await loop.sleep(for: .milliseconds(5))
            client.reset()
            do {
                while try await server.readLine() != nil {}
                return "end"
            } catch let error as UVError {
                return error.name
            }
        }
        #expect(["end", "ECONNRESET"].contains(outcome))
    }
}
