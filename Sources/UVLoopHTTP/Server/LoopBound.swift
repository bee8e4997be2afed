/// A value handed from a connection's `nonisolated(nonsending)` code to a concurrent async
/// function (a ``ByteStream`` requirement, a handler's closure). Safe: both run on the
/// connection's loop thread — its tasks prefer the loop's executor — so the value is never
/// used by two threads at once.
struct LoopBound<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
