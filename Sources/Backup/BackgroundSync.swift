import Foundation

/// Flushes a finished file to disk on its own thread, so the wait for the disk overlaps the
/// checks that read the file; `wait` returns once it is durable, or throws why it is not.
final class BackgroundSync: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var failure: Error?
    private var waited = false

    init(path: String) {
        let thread = Thread { [self] in
            do { try RestoreFile.sync(path) } catch { failure = error }
            done.signal()
        }
        thread.name = "backstream-sync"
        thread.start()
    }

    /// Waits for the sync; the semaphore orders `failure`'s write before this read.
    func wait() throws {
        if !waited {
            done.wait()
            waited = true
        }
        if let failure { throw failure }
    }
}
