import ChunkIO

/// Flushes a finished file to disk on its own thread, so the wait for the disk overlaps the
/// checks that read the file; `wait` returns once it is durable, or throws why it is not.
struct BackgroundSync {
    private let sync: ThreadResult<Void>

    init(path: String) {
        sync = ThreadResult("bs-sync") { try RestoreFile.sync(path) }
    }

    func wait() throws { try sync.value() }
}
