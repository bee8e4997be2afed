// swift-tools-version: 6.1
// The Redis client's pipelined throughput against a local redis-server, release build; run by
// scripts/redis_client_bench.sh. A package of its own so the root package never builds it.
import PackageDescription

let package = Package(
    name: "RedisClientBench",
    dependencies: [.package(name: "UVLoop", path: "../..")],
    targets: [
        .executableTarget(name: "RedisClientBench", dependencies: [.product(name: "UVLoopRedis", package: "UVLoop")])
    ],
    swiftLanguageModes: [.v6]
)
