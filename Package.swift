// swift-tools-version: 6.1
// UVLoop, the library: the loop and its transports, the loop-free codecs, and the protocol
// modules (TLS, HTTP/1.1, WebSocket, Redis). The example programs are a package of their own
// (Examples/Package.swift), and so are the benchmarks, so a package that depends on UVLoop
// fetches and builds only what the library needs.
//
// Linux only: the library calls Glibc (accept4, fcntl) directly. Built and tested on Debian.
import PackageDescription

let package = Package(
    name: "UVLoop",
    products: [
        .library(name: "UVLoop", targets: ["UVLoop"]),
        .library(name: "UVLoopCodecs", targets: ["UVLoopCodecs"]),
        .library(name: "UVLoopTLS", targets: ["UVLoopTLS"]),
        .library(name: "UVLoopHTTP", targets: ["UVLoopHTTP"]),
        .library(name: "UVLoopWebSocket", targets: ["UVLoopWebSocket"]),
        .library(name: "UVLoopRedis", targets: ["UVLoopRedis"]),
        .library(name: "UVLoopServiceLifecycle", targets: ["UVLoopServiceLifecycle"]),
        // For the tests and fuzz targets of packages built on UVLoop (the examples' package uses both).
        .library(name: "UVLoopTestSupport", targets: ["UVLoopTestSupport"]),
        .library(name: "FuzzDriver", targets: ["FuzzDriver"]),
    ],
    // Opt-in parts with dependencies of their own: a package that does not enable a trait does
    // not fetch what it needs. `.package(url: …, from: …, traits: ["ServiceLifecycle"])`.
    traits: [
        .trait(name: "ServiceLifecycle", description: "UVLoopServiceLifecycle: a loop as a swift-service-lifecycle Service")
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // System libraries from Debian: a module map and pkg-config name each.
        .systemLibrary(name: "CLibUV", pkgConfig: "libuv", providers: [.apt(["libuv1-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        // zlib, for WebSocket permessage-deflate (RFC 7692).
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),

        // Loop-free codecs: bytes, lines and the HTTP, WebSocket and RESP codecs; no I/O, so fuzzable alone.
        .target(name: "UVLoopCodecs", dependencies: ["CZlib"]),
        .target(
            name: "UVLoop",
            dependencies: ["CLibUV", "UVLoopCodecs"],
            // Stream registers read-wait cancellation handlers with the runtime directly (see
            // `addCancellationHandler` in Stream.swift); this lets it declare those entry points.
            swiftSettings: [.enableExperimentalFeature("AllowRuntimeSymbolDeclarations")]
        ),
        // TLS on the system's OpenSSL: TLSEngine (no I/O) and TLSStream over any ByteStream.
        .target(name: "UVLoopTLS", dependencies: ["COpenSSL", "UVLoop", "UVLoopCodecs"]),
        // HTTP/1.1 server, router and client over any ByteStream; the parser is in UVLoopCodecs.
        .target(name: "UVLoopHTTP", dependencies: ["UVLoop", .product(name: "HTTPTypes", package: "swift-http-types")]),
        // WebSocket (RFC 6455, RFC 7692) sessions over any ByteStream.
        .target(name: "UVLoopWebSocket", dependencies: ["UVLoop", "UVLoopHTTP"]),
        // A Redis client over any ByteStream: pipelining, pub/sub, reconnects (RESP is in UVLoopCodecs).
        .target(name: "UVLoopRedis", dependencies: ["UVLoop", .product(name: "Logging", package: "swift-log")]),
        // Empty unless the ServiceLifecycle trait is enabled.
        .target(name: "UVLoopServiceLifecycle", dependencies: ["UVLoop", serviceLifecycle]),

        // Helpers the test targets share: a test's own loop, with a failure on any handle left open.
        .target(name: "UVLoopTestSupport", dependencies: ["UVLoop"], path: "Tests/UVLoopTestSupport"),
        // A child process for the standard-stream tests (its descriptors redirected by a shell).
        .executableTarget(name: "UVLoopStdioProbe", dependencies: ["UVLoop"], path: "Tests/UVLoopStdioProbe"),
        .testTarget(name: "UVLoopTests", dependencies: ["UVLoop", "UVLoopTestSupport", "UVLoopStdioProbe"]),
        .testTarget(name: "UVLoopTLSTests", dependencies: ["UVLoop", "UVLoopTLS", "UVLoopHTTP", "UVLoopTestSupport"]),
        .testTarget(
            name: "UVLoopHTTPTests",
            dependencies: ["UVLoopHTTP", "UVLoopTestSupport", .product(name: "HTTPTypes", package: "swift-http-types")]
        ),
        .testTarget(name: "UVLoopWebSocketTests", dependencies: ["UVLoopWebSocket", "UVLoopTestSupport"]),
        .testTarget(
            name: "UVLoopRedisTests",
            dependencies: ["UVLoopRedis", "UVLoopTestSupport", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "UVLoopServiceLifecycleTests",
            dependencies: [
                "UVLoopServiceLifecycle", serviceLifecycle,
                .product(name: "Logging", package: "swift-log", condition: .when(traits: ["ServiceLifecycle"])),
            ]
        ),

        // Fuzz targets (scripts/fuzz.sh): libFuzzer drives each when built with FUZZING; a
        // plain build replays the corpus folders named on its command line.
        .target(name: "FuzzDriver", path: "Fuzz/FuzzDriver"),
        fuzzTarget("LineReaderFuzz"),
        fuzzTarget("HTTPParserFuzz"),
        fuzzTarget("WebSocketFrameFuzz"),
        fuzzTarget("RESPDecoderFuzz"),
        fuzzTarget("TLSFuzz", also: ["UVLoopTLS"]),

        .executableTarget(
            name: "HTTPParserBenchmark",
            dependencies: ["UVLoopCodecs", .product(name: "HTTPTypes", package: "swift-http-types")],
            path: "Benchmarks/HTTPParserBenchmark"
        ),
    ],
    swiftLanguageModes: [.v6]
)

/// swift-service-lifecycle, only with the ServiceLifecycle trait.
var serviceLifecycle: Target.Dependency {
    .product(name: "ServiceLifecycle", package: "swift-service-lifecycle", condition: .when(traits: ["ServiceLifecycle"]))
}

/// A fuzz target over the loop-free codecs, in Fuzz/<name>.
func fuzzTarget(_ name: String, also: [Target.Dependency] = []) -> Target {
    .executableTarget(name: name, dependencies: ["FuzzDriver", "UVLoopCodecs"] + also, path: "Fuzz/\(name)")
}
