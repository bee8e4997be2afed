import Foundation
import Glibc
import Testing
import UVLoop
import UVLoopTLS
import UVLoopTestSupport

/// Failing handshakes of each kind (unknown CA, plaintext, vanished mid-handshake) leave no
/// engine and no descriptor behind. It counts process-wide, so it runs alone:
/// `UVLOOP_TLS_LEAK_ROUNDS=30000 swift test --filter TLSLeakTests` (scripts/test.sh does).
@Suite("TLS leaks", .enabled(if: ProcessInfo.processInfo.environment["UVLOOP_TLS_LEAK_ROUNDS"] != nil))
struct TLSLeakTests {
    @Test("thousands of failing handshakes leave no engine and no descriptor behind")
    func noLeaks() async throws {
        let rounds = Int(ProcessInfo.processInfo.environment["UVLOOP_TLS_LEAK_ROUNDS"] ?? "") ?? 0
        let (before, after, enginesAfter) = try await onTLSLoop(timeout: .seconds(900)) { loop -> (Int, Int, Int) in
            let tlsServer = try TLSTestServer(on: loop, context: try TLSContext(serverConfiguration()))
            defer { tlsServer.close() }
            let untrusting = try TLSContext(.client(verification: .systemTrustStore))
            // Warm up once, so lazily opened files (the trust store) are counted in `before`.
            _ = try? await TLSStream.connect(host: "localhost", port: tlsServer.port, on: loop, context: untrusting)
            _ = try await tlsServer.nextOutcome()
            let before = openDescriptorCount()
            for round in 0..<rounds {
                switch round % 3 {
                case 0:  // unknown CA, as the client sees it
                    _ = try? await TLSStream.connect(host: "localhost", port: tlsServer.port, on: loop, context: untrusting)
                case 1:  // plaintext
                    let raw = try await TCPStream.connect(host: "127.0.0.1", port: tlsServer.port, on: loop)
                    try raw.write("hello\n")
                    while (try? await raw.read()) != nil {}
                    raw.close()
                default:  // vanishes mid-handshake
                    let raw = try await TCPStream.connect(host: "127.0.0.1", port: tlsServer.port, on: loop)
                    try raw.write(Bytes([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]))
                    raw.close()
                }
                _ = try await tlsServer.nextOutcome()
            }
            // Closed streams release their handles on the next loop iteration.
            try await loop.sleep(for: .milliseconds(50))
            return (before, openDescriptorCount(), TLSEngine.liveCount)
        }
        print("TLS leak check: \(rounds) failed handshakes; descriptors \(before) before, \(after) after; live engines \(enginesAfter)")
        #expect(after == before, "descriptors: \(before) before, \(after) after \(rounds) failed handshakes")
        #expect(enginesAfter == 0, "engines still alive: \(enginesAfter)")
    }
}

/// Descriptors open in this process.
func openDescriptorCount() -> Int {
    guard let directory = opendir("/proc/self/fd") else { return -1 }
    defer { closedir(directory) }
    var count = 0
    while readdir(directory) != nil { count += 1 }
    return count - 3  // ".", ".." and the directory's own descriptor
}
