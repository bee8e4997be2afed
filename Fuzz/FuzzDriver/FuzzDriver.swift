import Foundation

/// Replays the files and folders named on the command line through a fuzz target's one-input
/// function, once each, and exits: a plain build's regression run of a corpus.
///
/// `scripts/fuzz.sh` builds the same targets for libFuzzer (`--sanitize fuzzer -DFUZZING`),
/// where libFuzzer's own `main` calls the target's `LLVMFuzzerTestOneInput` instead.
///
/// ```sh
/// swift run LineReaderFuzz Fuzz/corpus/LineReaderFuzz
/// ```
public func replayCorpus(_ target: (UnsafePointer<UInt8>?, Int) -> CInt) -> Never {
    var inputs = 0
    for path in CommandLine.arguments.dropFirst() {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            FileHandle.standardError.write(Data("no such file: \(path)\n".utf8))
            exit(2)
        }
        let files =
            isFolder.boolValue
            ? ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted().map { "\(path)/\($0)" } : [path]
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else { continue }
            _ = data.withUnsafeBytes { target($0.baseAddress?.assumingMemoryBound(to: UInt8.self), $0.count) }
            inputs += 1
        }
    }
    print("replayed \(inputs) inputs: no failure")
    exit(0)
}
