import Logging
import Synchronization

/// A logger whose messages a test can read back: `"warning: redis ...: connection refused; ..."`.
final class LogCapture: Sendable {
    let lines = Mutex<[String]>([])

    var logger: Logger {
        var logger = Logger(label: "redis-test") { _ in Handler(capture: self) }
        logger.logLevel = .debug
        return logger
    }

    /// The messages logged at `level`.
    func messages(at level: Logger.Level) -> [String] {
        lines.withLock { $0 }.compactMap { line in
            line.hasPrefix("\(level): ") ? String(line.dropFirst("\(level): ".count)) : nil
        }
    }

    private struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .debug

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            capture.lines.withLock { $0.append("\(event.level): \(event.message)") }
        }
    }
}
