import UVLoop

/// What ``HTTPServer/run(on:)`` accepts from: any `ConnectionSource` (a `TCPListener`, a
/// `UnixListener`, a `TLSListener` for HTTPS).
public typealias HTTPConnectionSource = ConnectionSource
