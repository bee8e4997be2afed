#if FUZZING
    /// libFuzzer's entry point: one input to httpParserFuzz(_:_:).
    @_cdecl("LLVMFuzzerTestOneInput")
    public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt { httpParserFuzz(data, size) }
#else
    import FuzzDriver

    /// Replays the corpus files and folders named on the command line (see FuzzDriver).
    @main
    enum HTTPParserFuzzMain {
        static func main() {
            if CommandLine.arguments.dropFirst().first == "--dump" {
                dumpParses(Array(CommandLine.arguments.dropFirst(2)))
                return
            }
            replayCorpus { data, size in httpParserFuzz(data, size) }
        }
    }
#endif
