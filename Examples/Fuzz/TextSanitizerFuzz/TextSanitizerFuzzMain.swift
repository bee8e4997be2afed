#if FUZZING
    /// libFuzzer's entry point: one input to textSanitizerFuzz(_:_:).
    @_cdecl("LLVMFuzzerTestOneInput")
    public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt { textSanitizerFuzz(data, size) }
#else
    import FuzzDriver

    /// Replays the corpus files and folders named on the command line (see FuzzDriver).
    @main
    enum TextSanitizerFuzzMain {
        static func main() { replayCorpus { data, size in textSanitizerFuzz(data, size) } }
    }
#endif
