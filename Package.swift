// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "UVLoop",
    // Linux only: the library calls Glibc (accept4, fcntl) directly. Built and tested on Debian.
    products: [
        .library(name: "UVLoop", targets: ["UVLoop"]),
        .library(name: "UVLoopCodecs", targets: ["UVLoopCodecs"]),
        .library(name: "UVLoopServiceLifecycle", targets: ["UVLoopServiceLifecycle"]),
        .library(name: "UVLoopRedis", targets: ["UVLoopRedis"]),
        .library(name: "UVLoopTLS", targets: ["UVLoopTLS"]),
        .executable(name: "ChatClientExample", targets: ["ChatClientExample"]),
        .executable(name: "ChatExample", targets: ["ChatExample"]),
        .executable(name: "EchoExample", targets: ["EchoExample"]),
        .executable(name: "SeedChatExample", targets: ["SeedChatExample"]),
        .executable(name: "ProxyExample", targets: ["ProxyExample"]),
        .executable(name: "UDPEchoExample", targets: ["UDPEchoExample"]),
        .executable(name: "RunExample", targets: ["RunExample"]),
        .executable(name: "TailExample", targets: ["TailExample"]),
        .library(name: "UVLoopWebSocket", targets: ["UVLoopWebSocket"]),
        .executable(name: "WebSocketEchoExample", targets: ["WebSocketEchoExample"]),
        .library(name: "UVLoopHTTP", targets: ["UVLoopHTTP"]),
        .executable(name: "HTTPExample", targets: ["HTTPExample"]),
        .executable(name: "FetchExample", targets: ["FetchExample"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibUV",
            pkgConfig: "libuv",
            providers: [.apt(["libuv1-dev"])]
        ),
        // zlib, for WebSocket permessage-deflate (RFC 7692).
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        // TLS on the system's OpenSSL: TLSEngine (no I/O) and TLSStream over any ByteStream.
        .target(name: "UVLoopTLS", dependencies: ["COpenSSL", "UVLoop", "UVLoopCodecs"]),
        .executableTarget(
            name: "ChatClientExample",
            dependencies: [
                "UVLoop",
                "UVLoopTLS",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Examples/ChatClientExample"
        ),
        .testTarget(
            name: "UVLoopTLSTests",
            dependencies: ["UVLoop", "UVLoopTLS", "UVLoopTestSupport"]
        ),
        .executableTarget(name: "TLSFuzz", dependencies: ["FuzzDriver", "UVLoopCodecs", "UVLoopTLS"], path: "Fuzz/TLSFuzz"),
        // Loop-free codecs: bytes, lines and the protocol codecs; no I/O, so fuzzable alone.
        .target(name: "UVLoopCodecs", dependencies: ["CZlib"]),
        .target(
            name: "UVLoop",
            dependencies: ["CLibUV", "UVLoopCodecs"],
            // Stream registers read-wait cancellation handlers with the runtime directly (see
            // `addCancellationHandler` in Stream.swift); this lets it declare those entry points.
            swiftSettings: [.enableExperimentalFeature("AllowRuntimeSymbolDeclarations")]
        ),
        // The chat protocol's loop-free parts: commands, names, text cleaning, flood limits.
        .target(
            name: "ChatProtocol",
            dependencies: ["UVLoopCodecs"],
            path: "Examples/ChatProtocol"
        ),
        .target(
            name: "ChatCore",
            dependencies: [
                "ChatProtocol",
                "UVLoop",
                "UVLoopHTTP",
                "UVLoopRedis",
                "UVLoopTLS",
                "UVLoopWebSocket",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Examples/ChatCore"
        ),
        .executableTarget(
            name: "ChatExample",
            dependencies: [
                "ChatCore",
                "UVLoop",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Examples/ChatExample"
        ),
        .executableTarget(
            name: "EchoExample",
            dependencies: [
                "UVLoop",
                "UVLoopTLS",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Examples/EchoExample"
        ),
        .executableTarget(
            name: "SeedChatExample",
            dependencies: ["UVLoop"],
            path: "Examples/SeedChatExample"
        ),
        .executableTarget(
            name: "ProxyExample",
            dependencies: [
                "UVLoop",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Examples/ProxyExample"
        ),
        .executableTarget(
            name: "UDPEchoExample",
            dependencies: [
                "UVLoop",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Examples/UDPEchoExample"
        ),
        .executableTarget(
            name: "RunExample",
            dependencies: [
                "UVLoop",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Examples/RunExample"
        ),
        .executableTarget(
            name: "TailExample",
            dependencies: [
                "UVLoop",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Examples/TailExample"
        ),
        .target(
            name: "UVLoopServiceLifecycle",
            dependencies: [
                "UVLoop",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "UVLoopServiceLifecycleTests",
            dependencies: [
                "UVLoopServiceLifecycle",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // A Redis client over any ByteStream: pipelining, pub/sub, reconnects (RESP is in UVLoopCodecs).
        .target(
            name: "UVLoopRedis",
            dependencies: ["UVLoop", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "UVLoopRedisTests",
            dependencies: ["UVLoopRedis", "UVLoopTestSupport", .product(name: "Logging", package: "swift-log")]
        ),
        // Fuzz targets (scripts/fuzz.sh): libFuzzer drives each when built with FUZZING; a
        // plain build replays the corpus folders named on its command line.
        .target(name: "FuzzDriver", path: "Fuzz/FuzzDriver"),
        .executableTarget(name: "LineReaderFuzz", dependencies: ["FuzzDriver", "UVLoopCodecs"], path: "Fuzz/LineReaderFuzz"),
        .executableTarget(name: "ChatInputFuzz", dependencies: ["FuzzDriver", "ChatProtocol"], path: "Fuzz/ChatInputFuzz"),
        .executableTarget(name: "RESPDecoderFuzz", dependencies: ["FuzzDriver", "UVLoopCodecs"], path: "Fuzz/RESPDecoderFuzz"),
        .executableTarget(
            name: "TextSanitizerFuzz", dependencies: ["FuzzDriver", "ChatProtocol", "UVLoopCodecs"], path: "Fuzz/TextSanitizerFuzz"),
        .executableTarget(
            name: "WebSocketFrameFuzz", dependencies: ["FuzzDriver", "UVLoopCodecs"], path: "Fuzz/WebSocketFrameFuzz"),
        // WebSocket (RFC 6455, RFC 7692) sessions over any ByteStream.
        .target(name: "UVLoopWebSocket", dependencies: ["UVLoop", "UVLoopHTTP"]),
        .executableTarget(
            name: "WebSocketEchoExample",
            dependencies: [
                "UVLoopWebSocket",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Examples/WebSocketEchoExample"
        ),
        .testTarget(
            name: "UVLoopWebSocketTests",
            dependencies: ["UVLoopWebSocket", "UVLoopTestSupport"]
        ),
        // Helpers the test targets share: a test's own loop, with a failure on any handle left open.
        .target(
            name: "UVLoopTestSupport",
            dependencies: ["UVLoop"],
            path: "Tests/UVLoopTestSupport"
        ),
        // A child process for the standard-stream tests (its descriptors redirected by a shell).
        .executableTarget(name: "UVLoopStdioProbe", dependencies: ["UVLoop"], path: "Tests/UVLoopStdioProbe"),
        .testTarget(
            name: "UVLoopTests",
            dependencies: ["UVLoop", "UVLoopTestSupport", "UVLoopStdioProbe"]
        ),
        // HTTP/1.1 server, router and client over any ByteStream; the parser is in UVLoopCodecs.
        .target(
            name: "UVLoopHTTP",
            dependencies: ["UVLoop", .product(name: "HTTPTypes", package: "swift-http-types")]
        ),
        .executableTarget(
            name: "HTTPExample",
            dependencies: [
                "UVLoopHTTP",
                "UVLoopWebSocket",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Examples/HTTPExample"
        ),
        .executableTarget(
            name: "FetchExample",
            dependencies: [
                "UVLoopHTTP",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Examples/FetchExample"
        ),
        .executableTarget(name: "HTTPParserFuzz", dependencies: ["FuzzDriver", "UVLoopCodecs"], path: "Fuzz/HTTPParserFuzz"),
        .executableTarget(
            name: "HTTPParserBenchmark",
            dependencies: ["UVLoopCodecs", .product(name: "HTTPTypes", package: "swift-http-types")],
            path: "Benchmarks/HTTPParserBenchmark"),
        .testTarget(
            name: "UVLoopHTTPTests",
            dependencies: [
                "UVLoopHTTP",
                "UVLoopTestSupport",
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]
        ),
        .testTarget(
            name: "ChatCoreTests",
            dependencies: [
                "ChatCore",
                "ChatProtocol",
                "UVLoop",
                "UVLoopTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
