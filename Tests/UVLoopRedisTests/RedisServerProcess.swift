import Synchronization
import UVLoop
#if canImport(Glibc)
    import Glibc
#endif

/// A throwaway `redis-server` for tests: on a free loopback port, no persistence, stopped by the
/// test. Reusable by any test target that talks to Redis.
///
/// ```swift
/// try await withRedisServer(on: loop) { server in
///     let redis = try await RedisClient.connect(url: server.url, on: loop)
///     ...
/// }
/// ```
final class RedisServerProcess {
    let loop: Loop
    /// The port it listens on (127.0.0.1 only).
    let port: Int
    private let extraArguments: [String]
    private var process: Subprocess?

    /// `redis://127.0.0.1:<port>`.
    var url: String { "redis://127.0.0.1:\(port)" }

    private init(loop: Loop, port: Int, extraArguments: [String]) {
        self.loop = loop
        self.port = port
        self.extraArguments = extraArguments
    }

    /// Starts a server on a port nothing listens on and returns once it logs that it accepts
    /// connections. The port comes from ``RedisTestPorts``: never one that another server of
    /// this test process had (a test that kills and restarts its server keeps its port, and
    /// another test's server must not take it meanwhile). A port taken by another process
    /// between the check and the server's bind is skipped.
    static func start(on loop: Loop, extraArguments: [String] = []) async throws -> RedisServerProcess {
        var attempt = 0
        while true {
            attempt += 1
            let server = RedisServerProcess(loop: loop, port: try RedisTestPorts.next(on: loop), extraArguments: extraArguments)
            do {
                try await server.restart()
                return server
            } catch let error as RedisServerError where error.description.contains("Address already in use") && attempt < 5 {
                continue
            }
        }
    }

    /// Starts the server again on the same port (after ``kill()``), returning once it is ready.
    func restart() async throws {
        let arguments =
            [
                "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no",
                "--loglevel", "notice", "--logfile", "",
            ] + extraArguments
        let process = try Subprocess.spawn(
            "redis-server", arguments: arguments, standardInput: .discard, standardOutput: .pipe, standardError: .inherit, on: loop)
        self.process = process
        guard let output = process.standardOutput else { throw RedisServerError("redis-server has no stdout pipe") }
        do {
            try await loop.withTimeout(.seconds(10)) {
                var log: [String] = []
                while let line = try await output.readLine() {
                    log.append(line)
                    if line.contains("Ready to accept connections") { return }
                }
                throw RedisServerError("redis-server on port \(port) exited before it was ready:\n" + log.joined(separator: "\n"))
            }
        } catch {
            await stop()
            throw error
        }
        // Keep reading its log so that it never blocks on a full pipe; ends when it exits.
        loop.spawn {
            while (try? await output.read()) != nil {}
            output.close()
        }
    }

    /// Kills the server with SIGKILL (no shutdown, as a crash would) and waits until it is gone.
    func kill() async {
        await stop(signal: .kill)
    }

    /// Stops the server and waits until it is gone; harmless if it is not running.
    func stop(signal: Signal = .kill) async {
        guard let process else { return }
        self.process = nil
        try? process.kill(signal)
        _ = try? await process.wait()
    }
}

/// The ports of the test process's Redis servers: each handed out once, from a range below the
/// kernel's ephemeral ports (32768 and up here), so neither another test's server nor an
/// outgoing connection's local port takes a port a killed server is about to get back.
enum RedisTestPorts {
    private static let nextPort = Mutex(21_000 + Int(getpid() % 40) * 250)

    /// A port no other server of this process had, that nothing listens on now.
    static func next(on loop: Loop) throws -> Int {
        while true {
            let port = nextPort.withLock { port in
                defer { port = port >= 30_999 ? 21_000 : port + 1 }
                return port
            }
            if let probe = try? TCPListener(host: "127.0.0.1", port: port, on: loop) {
                probe.close()
                return port
            }
        }
    }
}

/// A failure to start or stop the test's redis-server.
struct RedisServerError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs `body` with a fresh server, which is stopped afterwards whether `body` throws or not.
func withRedisServer<T>(
    on loop: Loop, extraArguments: [String] = [], _ body: (RedisServerProcess) async throws -> T
) async throws -> T {
    let server = try await RedisServerProcess.start(on: loop, extraArguments: extraArguments)
    do {
        let result = try await body(server)
        await server.stop()
        return result
    } catch {
        await server.stop()
        throw error
    }
}
