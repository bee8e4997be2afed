// swift-tools-version: 6.1
// Benchmark peers for scripts/bench_http.sh, in a package of their own so that the root
// package never depends on SwiftNIO: Hummingbird 2 answering `GET /` with `hello\n` on one
// event loop, the same route HTTPExample serves.
//
//     cd Benchmarks/HTTPPeers && swift build -c release
//     .build/release/HummingbirdHello --port 8083
import PackageDescription

let package = Package(
    name: "HTTPPeers",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1")
    ],
    targets: [
        .executableTarget(
            name: "HummingbirdHello",
            dependencies: [.product(name: "Hummingbird", package: "hummingbird")]
        )
    ],
    swiftLanguageModes: [.v6]
)
