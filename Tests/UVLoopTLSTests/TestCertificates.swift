import Foundation
import Testing

/// Certificates made once per test run with the `openssl` command, in a fresh temporary folder:
/// a CA, certificates it signed (for localhost and 127.0.0.1, for another name, an expired one,
/// one for `alt.test`), and a self-signed one for localhost.
struct TestCertificates: Sendable {
    let directory: String

    func path(_ name: String) -> String { "\(directory)/\(name)" }

    var caFile: String { path("ca.pem") }
    var localhostChain: String { path("localhost.pem") }
    var localhostKey: String { path("localhost.key") }
    var wrongHostChain: String { path("wronghost.pem") }
    var wrongHostKey: String { path("wronghost.key") }
    var expiredChain: String { path("expired.pem") }
    var expiredKey: String { path("expired.key") }
    var altChain: String { path("alt.pem") }
    var altKey: String { path("alt.key") }
    var selfSignedChain: String { path("selfsigned.pem") }
    var selfSignedKey: String { path("selfsigned.key") }

    /// The shared set, made on first use.
    static let shared: TestCertificates = {
        do {
            return try make()
        } catch {
            fatalError("cannot make test certificates: \(error)")
        }
    }()

    private static func make() throws -> TestCertificates {
        let directory = NSTemporaryDirectory() + "uvloop-tls-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let script = #"""
            set -e
            cd "$1"
            key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
            key ca.key
            openssl req -x509 -new -key ca.key -out ca.pem -days 30 -subj "/CN=UVLoop Test CA" \
                -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
            mkdir -p db && : > db/index.txt && echo 1000 > db/serial
            cat > ca.cnf <<EOF
            [ca]
            default_ca = test
            [test]
            database = db/index.txt
            serial = db/serial
            new_certs_dir = db
            certificate = ca.pem
            private_key = ca.key
            default_md = sha256
            policy = anything
            unique_subject = no
            copy_extensions = copy
            [anything]
            commonName = supplied
            EOF
            sign() { # name, subject, SAN, start, end
                key "$1.key"
                openssl req -new -key "$1.key" -out "$1.csr" -subj "/CN=$2" -addext "subjectAltName=$3" 2>/dev/null
                openssl ca -batch -config ca.cnf -in "$1.csr" -out "$1.pem" -startdate "$4" -enddate "$5" -notext 2>/dev/null
            }
            sign localhost localhost "DNS:localhost,IP:127.0.0.1" 20240101000000Z 20991231000000Z
            sign wronghost other.example "DNS:other.example" 20240101000000Z 20991231000000Z
            sign expired localhost "DNS:localhost,IP:127.0.0.1" 20200101000000Z 20200201000000Z
            sign alt alt.test "DNS:alt.test" 20240101000000Z 20991231000000Z
            key selfsigned.key
            openssl req -x509 -new -key selfsigned.key -out selfsigned.pem -days 30 -subj "/CN=localhost" \
                -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null
            """#
        // Through system(3), not Foundation's Process, whose run() leaves a weak-reference side
        // table that LeakSanitizer reports.
        let scriptPath = "\(directory)/make.sh"
        try script.write(toFile: scriptPath, atomically: true, encoding: .utf8)
        let status = system("/bin/bash '\(scriptPath)' '\(directory)'")
        guard status == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "openssl failed in \(directory)"])
        }
        return TestCertificates(directory: directory)
    }
}
