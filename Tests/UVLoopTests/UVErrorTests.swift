import Testing
import UVLoop

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
}
