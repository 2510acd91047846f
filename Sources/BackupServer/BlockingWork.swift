import Foundation

/// Runs the blocking backup library (SQLite reads, libcurl uploads, downloads that wait on a
/// slow client) on a thread of its own. Never on Swift's cooperative pool (one thread per
/// core), and never on libdispatch's global pool either: on Linux that pool grows slowly when
/// its threads block, so a few blocked items (other work in the process, stalled downloads)
/// left a backup queued until they ended.
///
/// Not `ChunkIO.WorkerThreads`: nothing joins this thread; its end resumes an async caller,
/// and it sets a stack size per call.
enum BlockingWork {
    /// `stackSize` 0 keeps the platform default (SQLite's parser and the backup path want it);
    /// downloads, which may be many at once, pass a small one.
    static func run<T: Sendable>(stackSize: Int = 0, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread { continuation.resume(with: Result { try body() }) }
            if stackSize > 0 { thread.stackSize = stackSize }
            thread.start()
        }
    }
}
