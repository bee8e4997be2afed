import CLibUV

/// A libuv timer that calls `action` on the loop thread; internal building block of
/// `sleep`, timeouts and repeating ticks.
final class LoopTimer: HandleOwner {
    private let handle: UnsafeMutablePointer<uv_timer_t>
    private var action: () -> Void
    private var isClosed = false
    let loop: Loop

    init(loop: Loop, action: @escaping () -> Void) {
        loop.assertOnLoop("create a timer")
        self.loop = loop
        self.action = action
        handle = allocateHandle(UV_TIMER, as: uv_timer_t.self)
        uv_timer_init(loop.uv, handle)
        adopt(handle, owner: self)
    }

    /// Fires once after `delay` (never sooner), then every `interval` if given.
    func start(after delay: Duration, repeating interval: Duration? = nil) {
        guard !isClosed else { return }
        // libuv counts from the loop's cached time, in whole milliseconds: refreshed here, and one
        // millisecond added for the part of the current one already gone, a timer cannot fire
        // before `delay` has passed (a 200 ms sleep ended after 199.76 ms without this).
        uv_update_time(loop.uv)
        let due = delay.milliseconds
        uv_timer_start(
            handle,
            { handle in
                owner(of: handle!, as: LoopTimer.self).action()
            }, due == 0 ? 0 : due + 1, interval?.milliseconds ?? 0)
    }

    func stop() {
        guard !isClosed else { return }
        uv_timer_stop(handle)
    }

    /// Stops and closes the timer; the action is released.
    func close() {
        guard !isClosed else { return }
        isClosed = true
        action = {}
        uvClose(handle)
    }

    var handleDescription: String { "timer" }
    func closeHandle() { close() }
}

extension Duration {
    /// Whole milliseconds, rounded up so a timer never fires early; negative durations are 0.
    var milliseconds: UInt64 {
        let (seconds, attoseconds) = components
        if seconds < 0 { return 0 }
        let millis = UInt64(seconds) * 1000 + UInt64((attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000)
        return millis
    }
}
