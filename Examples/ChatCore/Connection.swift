import UVLoop

/// What reading the next line of a participant's connection gave.
enum ReadResult {
    /// A line, terminator included, exactly as received.
    case line(Bytes)
    /// A line over the cap; it was dropped and the connection is still usable.
    case tooLong
    /// The connection ended, timed out or failed.
    case end(Departure)
}

extension Participant {
    /// Reads the next line, giving up after `idleTimeout` if one is set.
    func readLine(idleTimeout: Duration?, on loop: Loop) async -> ReadResult {
        do {
            let line: Bytes?
            if let idleTimeout {
                line = try await readLine(within: idleTimeout, on: loop)
            } else {
                line = try await stream.readLineBytes()
            }
            guard let line else { return .end(.closed) }
            return .line(line)
        } catch is LineTooLongError {
            return .tooLong
        } catch {
            return .end(Departure(readError: error))
        }
    }

    /// Reads the next line, throwing `TimeoutError` if none comes within `timeout`.
    func readLine(within timeout: Duration, on loop: Loop) async throws -> Bytes? {
        try await loop.withTimeout(timeout) { try await self.stream.readLineBytes() }
    }

    /// Writes `farewell` (if any) and waits up to `timeout` for it to go out, then closes.
    func close(after farewell: Bytes?, within timeout: Duration, on loop: Loop) async {
        if let farewell, (try? stream.write(farewell)) != nil {
            _ = try? await loop.withTimeout(timeout) { try await self.stream.flush() }
        }
        stream.close()
    }
}
