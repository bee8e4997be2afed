import Testing
import UVLoop
import UVLoopTestSupport

@Suite("UVError")
struct UVErrorTests {
    @Test("reads as operation, target, libuv's name and message")
    func description() {
        let error = UVError(code: UVError.Code.connectionRefused, operation: "connect to", target: "127.0.0.1:9")
        #expect(error.description == "connect to 127.0.0.1:9 failed: ECONNREFUSED (connection refused)")
        #expect(error.name == "ECONNREFUSED")
        #expect(
            UVError(code: UVError.Code.addressInUse, operation: "listen").description
                == "listen failed: EADDRINUSE (address already in use)")
    }

    @Test("a name that does not resolve names the host it was looking up")
    func resolveNamesHost() async throws {
        let message = try await onLoop { loop -> String in
            do {
                _ = try await loop.resolve(host: "no-such-host.invalid", port: 80)
                return "resolved"
            } catch let error as UVError {
                return error.description
            }
        }
        // EAI_NONAME normally; EAI_AGAIN where no resolver answers.
        #expect(message.hasPrefix("resolve no-such-host.invalid failed: EAI_"), "got \(message)")
    }

    @Test("a listener on localhost binds 127.0.0.1; another name fails saying the host must be an IP address")
    func listenerHostNames() async throws {
        let (bound, message) = try await onLoop { loop -> (String, String) in
            let listener = try TCPListener(host: "localhost", port: 0, on: loop)
            defer { listener.close() }
            do {
                _ = try TCPListener(host: "example.invalid", port: 0, on: loop)
                return ("", "listening")
            } catch {
                return (listener.boundAddress?.host ?? "none", "\(error)")
            }
        }
        #expect(bound == "127.0.0.1")
        #expect(
            message
                == "parse address example.invalid:0 failed: EINVAL (invalid argument): host must be an IP address; got example.invalid — resolve it first (loop.resolve(host:)) or use 127.0.0.1"
        )
    }
}
