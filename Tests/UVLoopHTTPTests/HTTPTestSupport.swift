import Testing
import UVLoopHTTP

/// The repository's root, from this file's path.
let repositoryRoot: String = {
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    return parts.joined(separator: "/")
}()

/// A peer process that prints `port N` when ready and exits when its standard input closes.
final class PeerProcess {
    let process: Subprocess
    let port: Int

    init(_ executable: String, _ arguments: [String], on loop: Loop) async throws {
        let process = try Subprocess.spawn(
            executable, arguments: arguments, standardInput: .pipe, standardOutput: .pipe, standardError: .inherit, on: loop)
        self.process = process
        let line = try await loop.withTimeout(.seconds(20)) { try await process.standardOutput?.readLine() }
        let text = try #require(line, "the peer printed nothing")
        port = try #require(Int(text.split(separator: " ").last ?? ""), "unexpected peer output \(text)")
    }

    func stop() async throws {
        process.standardInput?.close()
        _ = try await process.wait()
        process.standardOutput?.close()
    }
}

/// Runs an HTTPServer with `router` on a loopback port for the duration of `body`.
func withServer<T>(
    _ router: Router, configuration: HTTPServerConfiguration = HTTPServerConfiguration(), on loop: Loop,
    _ body: (Int, HTTPServer) async throws -> T
) async throws -> T {
    let listener = try TCPListener(host: "127.0.0.1", port: 0, on: loop)
    let server = HTTPServer(router: router, configuration: configuration)
    let running = loop.spawn { try await server.run(on: listener) }
    do {
        let result = try await body(listener.port, server)
        server.shutdown()
        await running.value
        return result
    } catch {
        server.shutdown()
        await running.value
        throw error
    }
}
