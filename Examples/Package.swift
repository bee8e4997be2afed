// swift-tools-version: 6.1
// The example programs: the chat server (ChatExample) with its loop-free chat protocol and its
// tests and fuzz targets, the chat client, and one small program per part of the framework.
//
// A package of its own, so that a package depending on UVLoop builds and fetches only the
// library and what the library needs (not argument-parser, nor the examples):
//
//     swift run --package-path Examples ChatExample            # from the repository's root
//     cd Examples && swift run ChatExample --help              # or from here
import PackageDescription

let uvLoop = "UVLoop"

let package = Package(
    name: "UVLoopExamples",
    products: [
        .executable(name: "ChatExample", targets: ["ChatExample"]),
        .executable(name: "ChatClientExample", targets: ["ChatClientExample"]),
        .executable(name: "SeedChatExample", targets: ["SeedChatExample"]),
        .executable(name: "EchoExample", targets: ["EchoExample"]),
        .executable(name: "ProxyExample", targets: ["ProxyExample"]),
        .executable(name: "UDPEchoExample", targets: ["UDPEchoExample"]),
        .executable(name: "RunExample", targets: ["RunExample"]),
        .executable(name: "TailExample", targets: ["TailExample"]),
        .executable(name: "HTTPExample", targets: ["HTTPExample"]),
        .executable(name: "FetchExample", targets: ["FetchExample"]),
        .executable(name: "WebSocketEchoExample", targets: ["WebSocketEchoExample"]),
    ],
    dependencies: [
        .package(name: uvLoop, path: ".."),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // The chat protocol's loop-free parts: commands, names, text cleaning, flood limits.
        .target(
            name: "ChatProtocol",
            dependencies: [.product(name: "UVLoopCodecs", package: uvLoop)],
            path: "ChatProtocol"
        ),
        // The chat server: rooms, sessions, TLS and web ports, Redis federation.
        .target(
            name: "ChatCore",
            dependencies: [
                "ChatProtocol",
                .product(name: "UVLoop", package: uvLoop),
                .product(name: "UVLoopHTTP", package: uvLoop),
                .product(name: "UVLoopRedis", package: uvLoop),
                .product(name: "UVLoopTLS", package: uvLoop),
                .product(name: "UVLoopWebSocket", package: uvLoop),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "ChatCore"
        ),
        example("ChatExample", ["ChatCore", "UVLoop"], logging: true),
        example("ChatClientExample", ["UVLoop", "UVLoopTLS"]),
        .executableTarget(
            name: "SeedChatExample",
            dependencies: [.product(name: "UVLoop", package: uvLoop)],
            path: "SeedChatExample"
        ),
        example("EchoExample", ["UVLoop", "UVLoopTLS"]),
        example("ProxyExample", ["UVLoop"]),
        example("UDPEchoExample", ["UVLoop"]),
        example("RunExample", ["UVLoop"]),
        example("TailExample", ["UVLoop"]),
        example("HTTPExample", ["UVLoopHTTP", "UVLoopWebSocket"]),
        example("FetchExample", ["UVLoopHTTP", "UVLoopTLS"]),
        example("WebSocketEchoExample", ["UVLoopWebSocket"]),
        .testTarget(
            name: "ChatCoreTests",
            dependencies: [
                "ChatCore",
                "ChatProtocol",
                .product(name: "UVLoop", package: uvLoop),
                .product(name: "UVLoopWebSocket", package: uvLoop),
                .product(name: "UVLoopTestSupport", package: uvLoop),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/ChatCoreTests"
        ),
        // Fuzz targets of the chat protocol (scripts/fuzz.sh), like the library's in ../Fuzz.
        .executableTarget(
            name: "ChatInputFuzz",
            dependencies: [.product(name: "FuzzDriver", package: uvLoop), "ChatProtocol"],
            path: "Fuzz/ChatInputFuzz"
        ),
        .executableTarget(
            name: "TextSanitizerFuzz",
            dependencies: [
                .product(name: "FuzzDriver", package: uvLoop), "ChatProtocol",
                .product(name: "UVLoopCodecs", package: uvLoop),
            ],
            path: "Fuzz/TextSanitizerFuzz"
        ),
    ],
    swiftLanguageModes: [.v6]
)

/// An example with a command line (swift-argument-parser) in the folder named after it. `uses`
/// names UVLoop's products, or this package's own targets (`ChatCore`).
func example(_ name: String, _ uses: [String], logging: Bool = false) -> Target {
    let local: Set = ["ChatCore", "ChatProtocol"]
    var dependencies: [Target.Dependency] = uses.map {
        local.contains($0) ? .target(name: $0) : .product(name: $0, package: uvLoop)
    }
    dependencies.append(.product(name: "ArgumentParser", package: "swift-argument-parser"))
    if logging { dependencies.append(.product(name: "Logging", package: "swift-log")) }
    return .executableTarget(name: name, dependencies: dependencies, path: name)
}
