import Glibc
import Testing
import UVLoop
import UVLoopTestSupport

@Suite("File watcher")
struct FileWatcherTests {
    @Test("a write to a watched file yields a change event naming it")
    func write() async throws {
        let change = try await onLoop { loop -> FileChange? in
            try await withTemporaryDirectory { dir in
                let path = dir.file("a.txt")
                let file = try await File.open(path, .writeOnly, creating: true, on: loop)
                var changes = loop.watch(path: path).makeAsyncIterator()
                try await file.write("hello\n")
                try await file.close()
                return try await loop.withTimeout(.seconds(10)) { try await changes.next() }
            }
        }
        let event = try #require(change)
        #expect(event.isChange)
        #expect(!event.isRename)
        #expect(event.filename == "a.txt")
        #expect(event.path.hasSuffix("/a.txt"))
    }

    @Test("a rename inside a watched directory yields a rename event")
    func rename() async throws {
        let names = try await onLoop { loop -> Set<String> in
            try await withTemporaryDirectory { dir in
                let file = try await File.open(dir.file("old"), .writeOnly, creating: true, on: loop)
                try await file.close()
                var changes = loop.watch(path: dir.path).makeAsyncIterator()
                try await loop.fileSystem.rename(dir.file("old"), to: dir.file("new"))
                var renamed: Set<String> = []
                try await loop.withTimeout(.seconds(10)) {
                    // inotify reports a rename as two events, one for each name.
                    while renamed.count < 2, let change = try await changes.next() {
                        if change.isRename, let name = change.filename { renamed.insert(name) }
                    }
                }
                return renamed
            }
        }
        #expect(names == ["old", "new"])
    }

    @Test("ending the iteration closes the watch handle")
    func endingIterationCloses() async throws {
        let counts = try await onLoop { loop -> (Int, Int) in
            try await withTemporaryDirectory { dir in
                let before = loop.openHandleCount
                var during = 0
                do {
                    // The watch starts here, before the file is made, so its event cannot be missed.
                    var changes = loop.watch(path: dir.path).makeAsyncIterator()
                    during = loop.openHandleCount - before
                    let file = try await File.open(dir.file("x"), .writeOnly, creating: true, on: loop)
                    try await file.close()
                    _ = try await loop.withTimeout(.seconds(10)) { try await changes.next() }
                }
                return (during, loop.openHandleCount - before)
            }
        }
        #expect(counts.0 == 1, "the watch was not open while iterating")
        #expect(counts.1 == 0, "the watch was left open once the iterator was gone")
    }

    @Test("cancelling the iterating task ends it at once and closes the watch")
    func cancel() async throws {
        let result = try await onLoop { loop -> (String, Int) in
            try await withTemporaryDirectory { dir in
                let before = loop.openHandleCount
                var outcome = "ended"
                let task = loop.spawn {
                    do {
                        for try await _ in loop.watch(path: dir.path) {}
                    } catch is CancellationError {
                        outcome = "cancelled"
                    }
                }
                await Task.yield()
                task.cancel()
                await task.value
                return (outcome, loop.openHandleCount - before)
            }
        }
        #expect(result.0 == "cancelled")
        #expect(result.1 == 0)
    }

    @Test("watching a missing path throws ENOENT naming the path, and leaves no handle open")
    func missing() async throws {
        let result = try await onLoop { loop -> (UVError?, Int) in
            try await withTemporaryDirectory { dir in
                let before = loop.openHandleCount
                var failure: UVError?
                do {
                    for try await _ in loop.watch(path: dir.file("missing")) {}
                } catch let error as UVError {
                    failure = error
                }
                return (failure, loop.openHandleCount - before)
            }
        }
        let error = try #require(result.0)
        #expect(error.code == -ENOENT)
        #expect(error.name == "ENOENT")
        #expect(error.description.contains("/missing"))
        #expect(result.1 == 0)
    }
}
