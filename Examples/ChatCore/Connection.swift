import UVLoop

extension Participant {
    /// Reads the next line, throwing `TimeoutError` if none comes within `timeout`. Kept out of
    /// ``ChatSession/run()`` so its frame (and the timeout's) is not part of every idle one's.
    @inline(never)
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
