import Testing
import UVLoop
import UVLoopTestSupport

/// glibc's `malloc_usable_size` (declared in `<malloc.h>`, which the Glibc module does not export).
@_silgen_name("malloc_usable_size")
private func mallocUsableSize(_ block: UnsafeMutableRawPointer) -> Int

/// Every open connection holds one `TCPStream`, so its heap block is part of the idle memory per
/// connection that the chat benchmarks measure (`scripts/bench_fanout.sh`, `hold`).
@Suite("Stream footprint")
struct StreamFootprintTests {
    @Test("a TCPStream fits in glibc's 128-byte heap block (120 usable bytes)")
    func tcpStreamBlock() async throws {
        let usable = try await onLoop { loop -> Int in
            let (client, server) = try await connectedPair(on: loop)
            defer { close(client, server) }
            return mallocUsableSize(Unmanaged.passUnretained(server).toOpaque())
        }
        // 120 usable bytes is the 128-byte block; one byte more and every connection pays 144.
        #expect(usable <= 120, "TCPStream occupies \(usable) usable bytes")
    }
}
