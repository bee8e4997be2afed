import CLibUV

/// A POSIX signal, for ``GracefulShutdown`` and ``Loop/signals(_:)``.
public struct Signal: Sendable, Hashable, CustomStringConvertible {
    /// The signal number.
    public let number: Int32
    /// Creates a signal from its number.
    public init(_ number: Int32) { self.number = number }

    /// SIGINT (Ctrl-C).
    public static let interrupt = Signal(SIGINT)
    /// SIGTERM (polite termination request).
    public static let terminate = Signal(SIGTERM)
    /// SIGHUP (hang-up; often "reload configuration").
    public static let hangup = Signal(SIGHUP)
    /// SIGCHLD (a child process changed state).
    public static let child = Signal(SIGCHLD)
    /// SIGUSR1.
    public static let user1 = Signal(SIGUSR1)
    /// SIGUSR2.
    public static let user2 = Signal(SIGUSR2)
    /// SIGKILL (cannot be caught or ignored).
    public static let kill = Signal(SIGKILL)
    /// SIGQUIT (Ctrl-\).
    public static let quit = Signal(SIGQUIT)

    public var description: String {
        switch self {
        case .interrupt: "SIGINT"
        case .terminate: "SIGTERM"
        case .hangup: "SIGHUP"
        case .child: "SIGCHLD"
        case .user1: "SIGUSR1"
        case .user2: "SIGUSR2"
        case .kill: "SIGKILL"
        case .quit: "SIGQUIT"
        default: "signal \(number)"
        }
    }
}

/// One `uv_signal_t` watching one signal number.
final class SignalWatcher: HandleOwner {
    private let handle: UnsafeMutablePointer<uv_signal_t>
    let signal: Signal
    var onSignal: (Signal) -> Void

    init(loop: Loop, signal: Signal, onSignal: @escaping (Signal) -> Void) throws(UVError) {
        self.signal = signal
        self.onSignal = onSignal
        loop.assertOnLoop("watch a signal")
        handle = allocateHandle(UV_SIGNAL, as: uv_signal_t.self)
        let initialized = uv_signal_init(loop.uv, handle)
        if initialized < 0 {
            UnsafeMutableRawPointer(handle).deallocate()
            throw UVError(code: initialized, operation: "watch", target: signal.description)
        }
        adopt(handle, owner: self)
        let status = uv_signal_start(
            handle,
            { handle, _ in
                let watcher = owner(of: handle!, as: SignalWatcher.self)
                watcher.onSignal(watcher.signal)
            }, signal.number)
        if status < 0 {
            uvClose(handle)
            throw UVError(code: status, operation: "watch", target: signal.description)
        }
    }

    func close() {
        onSignal = { _ in }
        uvClose(handle)
    }

    var handleDescription: String { "signal watcher \(signal)" }
    func closeHandle() { close() }
}

extension Loop {
    /// Waits until the process receives one of `signals`, and returns it: a forward to
    /// ``GracefulShutdown`` (``GracefulShutdown/wait()``), which a server should prefer — it
    /// catches the signals from the moment it is made, not only while this call waits.
    ///
    /// While it waits, those signals no longer have their default effect (SIGINT does not kill
    /// the process); the handlers are removed when it returns or is cancelled.
    public func waitForSignal(_ signals: Set<Signal>) async throws -> Signal {
        assertOnLoop("waitForSignal")
        let shutdown = try GracefulShutdown(on: self, signals: signals)
        defer { shutdown.close() }
        return try await shutdown.wait()
    }
}
