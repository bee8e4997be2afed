#if FUZZING
    /// libFuzzer's entry point: one input to chatInputFuzz(_:_:).
    @_cdecl("LLVMFuzzerTestOneInput")
    public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt { chatInputFuzz(data, size) }
#else
    import FuzzDriver

    /// Replays the corpus files and folders named on the command line (see FuzzDriver).
    @main
    enum ChatInputFuzzMain {
        static func main() { replayCorpus { data, size in chatInputFuzz(data, size) } }
    }
#endif
