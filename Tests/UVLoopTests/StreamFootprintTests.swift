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
            // The smallest of several: malloc may hand a 128-byte request a larger free block
            // whose rest is too small to split off (other tests free blocks in this process).
            var pairs: [(TCPStream, TCPStream)] = []
            for _ in 0..<8 { pairs.append(try await connectedPair(on: loop)) }
            defer { for (client, server) in pairs { close(client, server) } }
            return pairs.map { mallocUsableSize(Unmanaged.passUnretained($0.1).toOpaque()) }.min() ?? 0
        }
        // 120 usable bytes is the 128-byte block; one byte more and every connection pays 144.
        #expect(usable <= 120, "TCPStream occupies \(usable) usable bytes")
    }
}
