import Benchmark
import UVLoop

#if canImport(Glibc)
    import Glibc
#endif

// Micro-benchmarks of UVLoop's hot paths, through its public API only.
//
// Each benchmark runs a fresh `Loop.run` on the benchmark thread and measures only the work
// between `startMeasurement` and `stopMeasurement` (setting up the loop and its connections is
// not measured). One scaled iteration is one unit of the figure in the benchmark's name, so the
// table reads as time (and mallocs) per unit.
//
//     cd Benchmarks && swift package benchmark
//     cd Benchmarks && swift package benchmark --filter "Broadcast.*"
//
// Peers that only produce or consume bytes are plain blocking sockets on a helper thread, so what
// is measured is UVLoop's side alone.

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .throughput, .mallocCountTotal],
        warmupIterations: 1,
        scalingFactor: .kilo,
        maxDuration: .seconds(3),
        maxIterations: 30
    )

    // The cost of one suspension and resumption through the loop's job queue: `Task.yield()` on a
    // loop task enqueues the task on the loop executor, which runs it again in the same drain.
    Benchmark("Loop: Task.yield (one suspend + resume)") { benchmark in
        onLoop(benchmark) { _, benchmark in
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations { await Task.yield() }
            benchmark.stopMeasurement()
        }
    }

    // Two loop tasks resuming each other with continuations: one iteration is a round trip,
    // i.e. two suspensions and two resumptions (the DESIGN.md "ping-pong" probe).
    Benchmark("Loop: ping-pong round trip between two tasks") { benchmark in
        onLoop(benchmark) { loop, benchmark in
            let baton = Baton()
            let rounds = benchmark.scaledIterations.count
            benchmark.startMeasurement()
            let other = loop.spawn {
                for _ in 0..<rounds { await baton.pass() }
            }
            for _ in 0..<rounds { await baton.pass() }
            baton.release()
            await other.value
            benchmark.stopMeasurement()
        }
    }

    // Splitting input into lines, without I/O: one 64 KiB chunk of 64-byte lines per 1,000 lines.
    Benchmark("LineReader: split one 64-byte line") { benchmark in
        let chunk = Bytes(lines(count: benchmark.scaledIterations.count))
        var reader = LineReader()
        benchmark.startMeasurement()
        reader.append(chunk)
        var count = 0
        while let line = try? reader.nextLine() {
            blackHole(line)
            count += 1
        }
        benchmark.stopMeasurement()
        precondition(count == benchmark.scaledIterations.count, "LineReader lost lines")
    }

    // `readLineBytes()` over a real loopback connection fed by a blocking writer thread. One
    // iteration is 1,000 lines (64 KB), so the malloc count reads as mallocs per 1,000 lines.
    Benchmark("TCPStream: readLineBytes of 1,000 64-byte lines") { benchmark in
        onLoop(benchmark) { loop, benchmark in
            let lineCount = benchmark.scaledIterations.count * 1000
            let listener = try TCPListener(host: "127.0.0.1", port: 0, on: loop)
            let writer = Peer.startWriter(port: listener.port, block: lines(count: 1000), lines: lineCount)
            let stream = try await listener.accept()
            listener.close()
            benchmark.startMeasurement()
            var count = 0
            while let line = try await stream.readLineBytes() {
                blackHole(line)
                count += 1
            }
            benchmark.stopMeasurement()
            stream.close()
            writer.join()
            precondition(count == lineCount, "read \(count) of \(lineCount) lines")
        }
    }

    // The chat broadcast: one 64-byte line written to 100 streams. Lines are written in rounds of
    // 10 (as if 10 senders spoke in one loop iteration), then the writer waits for one stream's
    // flush, so every round is one pass of the loop: one writev per stream. A sink thread reads
    // everything. mallocs / 100 = allocations per delivery on the write side.
    Benchmark("Broadcast: one 64-byte line to 100 streams") { benchmark in
        onLoop(benchmark) { loop, benchmark in
            let recipients = 100
            let listener = try TCPListener(host: "127.0.0.1", port: 0, on: loop)
            let sink = Peer.startSink(port: listener.port, connections: recipients)
            var streams: [TCPStream] = []
            for _ in 0..<recipients { streams.append(try await listener.accept()) }
            listener.close()
            let line = Bytes(lines(count: 1))
            benchmark.startMeasurement()
            var written = 0
            for _ in benchmark.scaledIterations {
                for stream in streams { try stream.write(line) }
                written += 1
                if written % 10 == 0 { try await streams[0].flush() }
            }
            for stream in streams { try await stream.flush() }
            benchmark.stopMeasurement()
            for stream in streams { stream.close() }
            sink.join()
        }
    }
}

/// Runs `body` on a new loop on this thread; a failure fails the benchmark.
func onLoop(_ benchmark: Benchmark, _ body: @escaping @Sendable (Loop, Benchmark) async throws -> Void) {
    let handle = BenchmarkHandle(benchmark)
    do {
        try Loop.run { loop in try await body(loop, handle.benchmark) }
    } catch {
        benchmark.error("loop failed: \(error)")
    }
}

/// The benchmark, handed into a loop body.
struct BenchmarkHandle: @unchecked Sendable {
    // @unchecked Sendable: Loop.run runs its body on the calling thread, the benchmark's, and
    // returns only when the body is done, so the benchmark is never used by two threads.
    let benchmark: Benchmark
    init(_ benchmark: Benchmark) { self.benchmark = benchmark }
}

/// `count` chat-sized lines: 63 bytes of text and a newline each.
func lines(count: Int) -> [UInt8] {
    let line = Array("0123456789abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQ\n".utf8)
    precondition(line.count == 64)
    var bytes: [UInt8] = []
    bytes.reserveCapacity(64 * count)
    for _ in 0..<count { bytes += line }
    return bytes
}

/// Two tasks taking turns: each `pass` parks the caller and wakes the other.
final class Baton: @unchecked Sendable {
    // @unchecked Sendable: used only by tasks of one loop, on its thread.
    private var parked: UnsafeContinuation<Void, Never>?

    func pass() async {
        await withUnsafeContinuation { continuation in
            let other = parked
            parked = continuation
            other?.resume()
        }
    }

    /// Wakes whoever is still parked, so both tasks can finish.
    func release() {
        let other = parked
        parked = nil
        other?.resume()
    }
}

/// A plain blocking-socket peer on its own thread.
final class Peer: @unchecked Sendable {
    // @unchecked Sendable: `body` is set before the thread starts and used only by it.
    private var thread = pthread_t()
    private let body: () -> Void

    private init(_ body: @escaping () -> Void) { self.body = body }

    private func start() -> Peer {
        let status = pthread_create(
            &thread, nil,
            { argument in
                // Balances the retain taken before pthread_create.
                Unmanaged<Peer>.fromOpaque(argument!).takeRetainedValue().body()
                return nil
            }, Unmanaged.passRetained(self).toOpaque())
        precondition(status == 0, "pthread_create failed")
        return self
    }

    func join() { pthread_join(thread, nil) }

    /// Connects once and writes `lines` lines, cycling through `block`, then closes.
    static func startWriter(port: Int, block: [UInt8], lines: Int) -> Peer {
        Peer {
            let fd = connectBlocking(port: port)
            let linesPerBlock = block.count / 64
            var left = lines
            block.withUnsafeBytes { buffer in
                while left > 0 {
                    let n = min(left, linesPerBlock)
                    writeAll(fd, buffer.baseAddress!, n * 64)
                    left -= n
                }
            }
            close(fd)
        }.start()
    }

    /// Connects `connections` times and reads and discards everything until each one ends.
    static func startSink(port: Int, connections: Int) -> Peer {
        Peer {
            var fds = (0..<connections).map { _ in pollfd(fd: connectBlocking(port: port), events: Int16(POLLIN), revents: 0) }
            let buffer = UnsafeMutableRawPointer.allocate(byteCount: 256 * 1024, alignment: 16)
            defer { buffer.deallocate() }
            var open = connections
            while open > 0 {
                let ready = poll(&fds, nfds_t(fds.count), 10_000)
                precondition(ready > 0, "sink: poll timed out or failed")
                for index in fds.indices where fds[index].fd >= 0 && fds[index].revents != 0 {
                    if read(fds[index].fd, buffer, 256 * 1024) <= 0 {
                        close(fds[index].fd)
                        fds[index].fd = -1
                        open -= 1
                    }
                }
            }
        }.start()
    }
}

func connectBlocking(port: Int) -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    precondition(fd >= 0, "socket failed")
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let status = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    precondition(status == 0, "connect to 127.0.0.1:\(port) failed: errno \(errno)")
    return fd
}

func writeAll(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) {
    var done = 0
    while done < count {
        let n = write(fd, bytes + done, count - done)
        precondition(n > 0, "write failed: errno \(errno)")
        done += n
    }
}
