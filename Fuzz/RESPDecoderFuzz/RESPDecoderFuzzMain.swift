#if FUZZING
    /// libFuzzer's entry point: one input to respDecoderFuzz(_:_:).
    @_cdecl("LLVMFuzzerTestOneInput")
    public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt { respDecoderFuzz(data, size) }
#else
    import FuzzDriver

    /// Replays the corpus files and folders named on the command line (see FuzzDriver).
    @main
    enum RESPDecoderFuzzMain {
        static func main() { replayCorpus { data, size in respDecoderFuzz(data, size) } }
    }
#endif
