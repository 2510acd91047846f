import Dispatch
import Foundation

/// Runs the blocking backup library (SQLite reads, libcurl uploads) off Swift's cooperative
/// pool, which has one thread per core: a backup must never occupy one of them.
enum BlockingWork {
    private static let queue = DispatchQueue(label: "backstream.server.blocking", attributes: .concurrent)

    static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try body() })
            }
        }
    }

    /// On a new thread: for work that may block for long on a client (downloads), so that many
    /// of them never starve the queue above.
    static func runOnOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread { continuation.resume(with: Result { try body() }) }
            thread.stackSize = 512 * 1024
            thread.start()
        }
    }
}
