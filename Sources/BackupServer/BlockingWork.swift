import Dispatch

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
}
