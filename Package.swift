// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "UVLoop",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "UVLoop", targets: ["UVLoop"]),
        .executable(name: "ChatExample", targets: ["ChatExample"]),
        .executable(name: "EchoExample", targets: ["EchoExample"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2")
    ],
    targets: [
        .systemLibrary(
            name: "CLibUV",
            pkgConfig: "libuv",
            providers: [.apt(["libuv1-dev"])]
        ),
        .target(
            name: "UVLoop",
            dependencies: ["CLibUV"]
        ),
        .executableTarget(
            name: "ChatExample",
            dependencies: [
                "UVLoop",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Examples/ChatExample"
        ),
        .executableTarget(
            name: "EchoExample",
            dependencies: [
                "UVLoop",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Examples/EchoExample"
        ),
        .testTarget(
            name: "UVLoopTests",
            dependencies: ["UVLoop"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
