// Pipelined throughput of RedisClient: `tasks` loop tasks each send `commands / tasks` SETs one
// after another on one client (so up to `tasks` commands are in flight), best of `rounds`.
// Usage: RedisClientBench URL COMMANDS TASKS ROUNDS
import Glibc
import UVLoop
import UVLoopRedis

let arguments = CommandLine.arguments
guard arguments.count == 5, let total = Int(arguments[2]), let taskCount = Int(arguments[3]), let rounds = Int(arguments[4]) else {
    print("usage: RedisClientBench URL COMMANDS TASKS ROUNDS")
    exit(2)
}
let url = arguments[1]

try Loop.run { loop in
    let redis = try await RedisClient.connect(url: url, on: loop)
    defer { redis.close() }
    let value = Bytes([UInt8](repeating: 0x78, count: 32))
    var best = Duration.seconds(1000)
    for _ in 0..<rounds {
        let clock = ContinuousClock()
        let started = clock.now
        var tasks: [SpawnedTask] = []
        let perTask = total / taskCount
        for task in 0..<taskCount {
            tasks.append(
                loop.spawn {
                    for index in 0..<perTask { try await redis.set("key:\(task):\(index % 100)", value) }
                })
        }
        for task in tasks { await task.value }
        best = min(best, clock.now - started)
    }
    let seconds = Double(best.components.seconds) + Double(best.components.attoseconds) / 1e18
    print(
        "RedisClient: \(total) SETs from \(taskCount) tasks in \(Int(seconds * 1000)) ms (best of \(rounds)): \(Int(Double(total) / seconds)) commands/s"
    )
}
