import Foundation
import Testing
import UVLoop
import UVLoopTLS
import UVLoopTestSupport

@Suite("TLSContext")
struct TLSContextTests {
    @Test("a missing certificate file is named in the error")
    func missingFile() throws {
        let certificates = TestCertificates.shared
        let error = #expect(throws: TLSError.self) {
            _ = try TLSContext(.server(certificateChain: "/nonexistent/cert.pem", privateKey: certificates.localhostKey))
        }
        #expect(error?.description == "load certificate chain /nonexistent/cert.pem failed: No such file or directory")
        #expect(error?.kind == .configuration)
    }

    @Test("a malformed certificate and a malformed key are named in the error")
    func malformedFiles() throws {
        let certificates = TestCertificates.shared
        let garbage = certificates.path("garbage.pem")
        try "not a certificate\n".write(toFile: garbage, atomically: true, encoding: .utf8)
        let badChain = #expect(throws: TLSError.self) {
            _ = try TLSContext(.server(certificateChain: garbage, privateKey: certificates.localhostKey))
        }
        #expect(badChain?.description.hasPrefix("load certificate chain \(garbage) failed: ") == true)
        let badKey = #expect(throws: TLSError.self) {
            _ = try TLSContext(.server(certificateChain: certificates.localhostChain, privateKey: garbage))
        }
        #expect(badKey?.description.hasPrefix("load private key \(garbage) failed: ") == true)
    }

    @Test("a key that does not match its certificate is refused")
    func mismatchedKey() throws {
        let certificates = TestCertificates.shared
        let error = #expect(throws: TLSError.self) {
            _ = try TLSContext(.server(certificateChain: certificates.localhostChain, privateKey: certificates.altKey))
        }
        #expect(
            error?.description
                == "load private key \(certificates.altKey) failed: the key does not match the certificate in \(certificates.localhostChain)"
        )
    }

    @Test("reload: new handshakes use the new files, established connections go on")
    func reload() async throws {
        let certificates = TestCertificates.shared
        let (oldConnection, newHandshake) = try await onTLSLoop { loop -> (String?, String) in
            let directory = certificates.path("reload-\(UInt32.random(in: 0...UInt32.max))")
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let chain = "\(directory)/cert.pem"
            let key = "\(directory)/key.pem"
            try FileManager.default.copyItem(atPath: certificates.localhostChain, toPath: chain)
            try FileManager.default.copyItem(atPath: certificates.localhostKey, toPath: key)
            let context = try TLSContext(.server(certificateChain: chain, privateKey: key))
            let tlsServer = try TLSTestServer(on: loop, context: context, serve: echoLines)
            defer { tlsServer.close() }
            let first = try await TLSStream.connect(host: "localhost", port: tlsServer.port, on: loop, configuration: clientConfiguration())
            defer { first.close() }
            try first.write("before\n")
            _ = try await first.readLine()
            // Swap in the certificate for another host name, and reload.
            try FileManager.default.removeItem(atPath: chain)
            try FileManager.default.removeItem(atPath: key)
            try FileManager.default.copyItem(atPath: certificates.wrongHostChain, toPath: chain)
            try FileManager.default.copyItem(atPath: certificates.wrongHostKey, toPath: key)
            try context.reload()
            let error = await thrownError {
                let second = try await TLSStream.connect(
                    host: "localhost", port: tlsServer.port, on: loop, configuration: clientConfiguration())
                second.close()
            }
            try first.write("after\n")
            return (try await first.readLine(), "\(error.map { "\($0)" } ?? "")")
        }
        #expect(oldConnection == "echo: after")
        #expect(newHandshake.hasSuffix("certificate verify failed (hostname mismatch)"))
    }

    @Test("a failed reload keeps the files the context had")
    func failedReload() async throws {
        let certificates = TestCertificates.shared
        let reply = try await onTLSLoop { loop -> String? in
            let directory = certificates.path("reload-\(UInt32.random(in: 0...UInt32.max))")
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let chain = "\(directory)/cert.pem"
            try FileManager.default.copyItem(atPath: certificates.localhostChain, toPath: chain)
            let context = try TLSContext(.server(certificateChain: chain, privateKey: certificates.localhostKey))
            try FileManager.default.removeItem(atPath: chain)
            #expect(throws: TLSError.self) { try context.reload() }
            let tlsServer = try TLSTestServer(on: loop, context: context, serve: echoLines)
            defer { tlsServer.close() }
            let client = try await TLSStream.connect(
                host: "localhost", port: tlsServer.port, on: loop, configuration: clientConfiguration())
            defer { client.close() }
            try client.write("still\n")
            return try await client.readLine()
        }
        #expect(reply == "echo: still")
    }
}
