/// A value that belongs to one loop, made `Sendable` by checking, on every access, that the
/// caller runs on that loop's thread — like SwiftNIO's `NIOLoopBound`.
///
/// Use it to put loop-only state (a room, a registry of connections) where Swift asks for
/// `Sendable`, such as a `@TaskLocal` value that the loop's tasks inherit:
///
/// ```swift
/// enum Server {
///     @TaskLocal static var registry: LoopBound<Registry>?
/// }
/// await Server.$registry.withValue(LoopBound(registry, on: loop)) {
///     loop.spawn { Server.registry?.value.add(client) }   // inherited by the spawned task
/// }
/// ```
///
/// Reading ``value`` from another thread stops the program with a clear message instead of
/// racing.
public struct LoopBound<Value>: @unchecked Sendable {
    // @unchecked Sendable: `value` is only handed out on `loop`'s thread (checked by every
    // access), so the non-Sendable value is never used by two threads.
    private let storage: Value
    /// The loop the value belongs to.
    public let loop: Loop

    /// Binds `value` to `loop`; call it on the loop's thread.
    public init(_ value: Value, on loop: Loop) {
        loop.assertOnLoop("LoopBound.init")
        self.storage = value
        self.loop = loop
    }

    /// The value; only on the loop's thread.
    public var value: Value {
        loop.assertOnLoop("LoopBound.value")
        return storage
    }
}
