import Foundation

/// Where the scheduler reads the time and waits: the system clock in production, a shifted one
/// in tests so "02:00 UTC" can be two seconds away.
package protocol ServerClock: Sendable {
    func now() -> Date
    /// Returns once `now() >= date`; throws `CancellationError` when the task is cancelled.
    func sleep(until date: Date) async throws
}

/// The wall clock, moved by a fixed offset (zero in production).
package struct SystemClock: ServerClock {
    package let offset: TimeInterval

    package init(offset: TimeInterval = 0) { self.offset = offset }

    package func now() -> Date { Date().addingTimeInterval(offset) }

    package func sleep(until date: Date) async throws {
        // Sleeps in slices of at most a minute so a wall-clock step (NTP, suspend) is noticed.
        while true {
            let remaining = date.timeIntervalSince(now())
            if remaining <= 0 { return }
            try await Task.sleep(for: .milliseconds(Int64(min(remaining, 60) * 1000) + 1))
        }
    }
}
