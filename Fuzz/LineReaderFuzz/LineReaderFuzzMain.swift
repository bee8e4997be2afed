#if FUZZING
    /// libFuzzer's entry point: one input to lineReaderFuzz(_:_:).
    @_cdecl("LLVMFuzzerTestOneInput")
    public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt { lineReaderFuzz(data, size) }
#else
    import FuzzDriver

    /// Replays the corpus files and folders named on the command line (see FuzzDriver).
    @main
    enum LineReaderFuzzMain {
        static func main() { replayCorpus { data, size in lineReaderFuzz(data, size) } }
    }
#endif
