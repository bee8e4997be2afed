// libFuzzer target: the server side of a TLS handshake, fed arbitrary bytes through the
// memory BIOs of a TLSEngine (no loop, no socket).
//
// The input is records: one length byte L, then up to L bytes of ciphertext "from the client".
// Each record is fed, then the engine steps (handshake until complete, then reads), and its
// output is taken, as TLSStream does. Whatever the bytes, the engine must answer with progress,
// a typed TLSError or a request for more input — never crash, hang or grow without bound — and,
// once it failed, stay failed. Each input starts a fresh engine; the context is made once.

import UVLoopCodecs
import UVLoopTLS

#if canImport(Glibc)
    import Glibc
#endif

func tlsFuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = UnsafeBufferPointer(start: data, count: size)
    let engine: TLSEngine
    do {
        engine = try TLSEngine(context: fuzzContext.context, peer: "fuzz")
    } catch {
        fatalError("TLSFuzz: cannot start an engine: \(error)")
    }
    var position = 0
    var failed = false
    while position < input.count {
        let length = Int(input[position])
        position += 1
        let end = min(position + length, input.count)
        engine.feed(Bytes(input[position..<end]))
        position = end
        do {
            if try engine.handshake() {
                // Drain every whole record fed so far.
                while case .plaintext(let bytes) = try engine.read() { check(bytes.count > 0, "empty plaintext") }
            }
        } catch {
            check(!"\(error)".isEmpty, "an error describes itself")
            failed = true
        }
        // The alert, or the next flight; bounded by what one step can produce.
        if let output = engine.takeOutput() { check(output.count < 64 * 1024, "output of \(output.count) bytes") }
        if failed { break }
    }
    if failed {
        // A failed engine keeps failing rather than resuming.
        check((try? engine.handshake()) != true, "handshake succeeded after a failure")
    }
    return 0
}

/// The server context every input starts from: a self-signed certificate for localhost (made
/// for this target, valid until 2125), written to a temporary folder on first use.
final class FuzzContext: @unchecked Sendable {
    // @unchecked Sendable: made once under Swift's lazy-global lock, then only read by the one
    // thread libFuzzer runs inputs on.
    let context: TLSContext

    init() {
        var template = Array("/tmp/tlsfuzz-XXXXXX".utf8CString)
        guard let directory = mkdtemp(&template).map({ String(cString: $0) }) else { fatalError("TLSFuzz: mkdtemp failed") }
        let chain = "\(directory)/cert.pem"
        let key = "\(directory)/key.pem"
        Self.write(certificatePEM, to: chain)
        Self.write(privateKeyPEM, to: key)
        do {
            context = try TLSContext(.server(certificateChain: chain, privateKey: key))
        } catch {
            fatalError("TLSFuzz: \(error)")
        }
        unlink(chain)
        unlink(key)
        rmdir(directory)
    }

    private static func write(_ text: String, to path: String) {
        guard let file = fopen(path, "w") else { fatalError("TLSFuzz: cannot write \(path)") }
        fputs(text, file)
        fclose(file)
    }
}

let fuzzContext = FuzzContext()

func check(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() { fatalError("TLSFuzz: \(message())") }
}

private let certificatePEM = """
    -----BEGIN CERTIFICATE-----
    MIIBlTCCATugAwIBAgIUYCtM+m1wVOn2i91M3vrft5vL46IwCgYIKoZIzj0EAwIw
    FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTIwMjEyMzc0N1oYDzIxMjYxMTA4
    MTIzNzQ3WjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
    PQMBBwNCAARTS+m+m9IZSo1OkTbG8u7i16d5BtRIwev0op2lsa7gsxset+qqo3UY
    7h5U+6TQIBxt6DvMGJDkFIznN9dBjA3Ao2kwZzAdBgNVHQ4EFgQU7vfTRA2mCG6H
    d6r4XEPryC3GO4swHwYDVR0jBBgwFoAU7vfTRA2mCG6Hd6r4XEPryC3GO4swDwYD
    VR0TAQH/BAUwAwEB/zAUBgNVHREEDTALgglsb2NhbGhvc3QwCgYIKoZIzj0EAwID
    SAAwRQIgaJJlJqoepG9Ie30njecQ7mlxGhQwH97ySX0gb/7cvYwCIQDWfmaU0bio
    QRXSzsWNUQWHfWBKcI0L5chxJgz/jnpw1g==
    -----END CERTIFICATE-----
    """

private let privateKeyPEM = """
    -----BEGIN PRIVATE KEY-----
    MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgbTQ/WQpL9gF6J0SP
    5vWWWM5Ef/iTPuHSLG2p8O3moP2hRANCAARTS+m+m9IZSo1OkTbG8u7i16d5BtRI
    wev0op2lsa7gsxset+qqo3UY7h5U+6TQIBxt6DvMGJDkFIznN9dBjA3A
    -----END PRIVATE KEY-----
    """
