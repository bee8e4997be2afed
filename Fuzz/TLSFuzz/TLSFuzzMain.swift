#if FUZZING
    /// libFuzzer's entry point: one input to tlsFuzz(_:_:).
    @_cdecl("LLVMFuzzerTestOneInput")
    public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt { tlsFuzz(data, size) }
#else
    import FuzzDriver

    /// Replays the corpus files and folders named on the command line (see FuzzDriver).
    @main
    enum TLSFuzzMain {
        static func main() { replayCorpus { data, size in tlsFuzz(data, size) } }
    }
#endif
