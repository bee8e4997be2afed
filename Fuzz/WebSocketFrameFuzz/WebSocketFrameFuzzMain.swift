#if FUZZING
    /// libFuzzer's entry point: one input to webSocketFrameFuzz(_:_:).
    @_cdecl("LLVMFuzzerTestOneInput")
    public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt { webSocketFrameFuzz(data, size) }
#else
    import FuzzDriver

    /// Replays the corpus files and folders named on the command line (see FuzzDriver).
    @main
    enum WebSocketFrameFuzzMain {
        static func main() { replayCorpus { data, size in webSocketFrameFuzz(data, size) } }
    }
#endif
