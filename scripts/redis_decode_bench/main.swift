// Decodes a RESP reply stream from a file with UVLoop's RESPDecoder, fed in chunks as a socket
// read would hand them over (each chunk copied into a fresh Bytes, as Stream.read() makes one);
// prints bytes/s and replies/s. Compiled with the UVLoopCodecs sources by
// scripts/redis_decode_bench.sh. Usage: resp_decode FILE CHUNK REPEAT

#if canImport(Glibc)
    import Glibc
#endif

func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

let arguments = CommandLine.arguments
guard arguments.count == 4, let chunk = Int(arguments[2]), let repeatCount = Int(arguments[3]) else {
    fputs("usage: resp_decode FILE CHUNK REPEAT\n", stderr)
    exit(2)
}
guard let file = fopen(arguments[1], "rb") else {
    perror(arguments[1])
    exit(1)
}
fseek(file, 0, SEEK_END)
let size = ftell(file)
fseek(file, 0, SEEK_SET)
var data = [UInt8](repeating: 0, count: size)
guard fread(&data, 1, size, file) == size else {
    perror("read")
    exit(1)
}
fclose(file)

var best = Double.infinity
var replies = 0
var checksum = 0
for _ in 0..<repeatCount {
    let start = monotonicSeconds()
    var decoder = RESPDecoder()
    replies = 0
    data.withUnsafeBytes { all in
        var offset = 0
        while offset < size {
            let length = min(chunk, size - offset)
            decoder.append(Bytes(UnsafeRawBufferPointer(rebasing: all[offset..<offset + length])))
            offset += length
            do {
                while let reply = try decoder.next() {
                    replies += 1
                    if case .array(let elements?) = reply { checksum &+= elements.count }
                }
            } catch {
                fputs("error: \(error)\n", stderr)
                exit(1)
            }
        }
    }
    best = min(best, monotonicSeconds() - start)
}
let megabytes = Double(size) / 1e6
print(
    "RESPDecoder: \(replies) replies, \(Int(megabytes)) MB in \(Int(best * 1000)) ms (best of \(repeatCount)): "
        + "\(Int(megabytes / best)) MB/s, \(Double(Int(Double(replies) / 1e4 / best)) / 100) M replies/s (checksum \(checksum))")
