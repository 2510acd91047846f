import Foundation

/// Capped exponential backoff with full jitter: attempt n waits a random time in
/// `0...min(maxDelay, baseDelay * 2^n)`, so many clients throttled together spread out.
package struct RetryPolicy: Sendable {
    package var maxAttempts: Int
    package var baseDelay: TimeInterval
    package var maxDelay: TimeInterval

    package init(maxAttempts: Int = 6, baseDelay: TimeInterval = 0.25, maxDelay: TimeInterval = 20) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    package static let standard = RetryPolicy()

    func delay(beforeRetry attempt: Int) -> TimeInterval {
        let ceiling = min(maxDelay, baseDelay * pow(2, Double(min(attempt, 30))))
        return ceiling > 0 ? Double.random(in: 0...ceiling) : 0
    }

    /// Runs `body` until it succeeds, throws an error that is not retryable, or runs out of attempts.
    /// With `progress` (bytes moved so far), an attempt that moved bytes before failing starts
    /// the count again: a long transfer may survive many brief outages, but not a dead server,
    /// and not more than 20 times the attempts in all (a link that breaks every few kilobytes).
    /// With `cancelled`, a failure once it returns true is thrown at once instead of retried
    /// (a part whose upload already failed elsewhere).
    func run<T>(progress: (() -> Int)? = nil, cancelled: (() -> Bool)? = nil, _ body: (_ attempt: Int) throws -> T) throws -> T {
        var attempt = 0
        var attempts = 0
        var moved = progress?() ?? 0
        while true {
            do {
                return try body(attempt)
            } catch let error as ObjectStoreError where error.isRetryable {
                attempts += 1
                if let now = progress?(), now > moved {
                    moved = now
                    attempt = 0
                }
                guard attempt + 1 < maxAttempts, attempts < 20 * maxAttempts, cancelled?() != true else { throw error }
                Thread.sleep(forTimeInterval: delay(beforeRetry: attempt))
                attempt += 1
            }
        }
    }
}
