// swift-tools-version: 6.1
// Micro-benchmarks of UVLoop's hot paths, with ordo-one/benchmark.
//
// A package of its own, so the root package and CI never build the benchmark tool:
//
//     cd Benchmarks && swift package benchmark
//
// The malloc-count metrics need the "MallocInterposer" trait: the plugin LD_PRELOADs the
// interposer into each benchmark run.
import PackageDescription

let package = Package(
    name: "UVLoopBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(name: "UVLoop", path: ".."),
    ],
    targets: [
        .executableTarget(
            name: "UVLoopBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "UVLoop", package: "UVLoop"),
            ],
            path: "UVLoopBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    ],
    swiftLanguageModes: [.v6]
)
