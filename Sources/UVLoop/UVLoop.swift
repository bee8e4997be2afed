// The loop-free codecs (`Bytes`, `LineReader`, and the protocol codecs) are part of UVLoop's API:
// `import UVLoop` brings them too.
@_exported import UVLoopCodecs
