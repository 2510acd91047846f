import Foundation
import Synchronization

/// A global token bucket for the requests that start work: `burst` at once, then
/// `perSecond` on average.
final class TokenBucket: Sendable {
    private struct State { var tokens: Double; var updated: ContinuousClock.Instant }
    private let state: Mutex<State>
    private let burst: Double
    private let perSecond: Double

    init(burst: Int, perSecond: Double) {
        self.burst = Double(max(1, burst))
        self.perSecond = max(0.000_1, perSecond)
        state = Mutex(State(tokens: Double(max(1, burst)), updated: .now))
    }

    /// nil when a token was taken, else the whole seconds until one is available.
    func take() -> Int? {
        state.withLock { s in
            let now = ContinuousClock.now
            let elapsed = now - s.updated
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            s.tokens = min(burst, s.tokens + seconds * perSecond)
            s.updated = now
            if s.tokens >= 1 {
                s.tokens -= 1
                return nil
            }
            return Int(((1 - s.tokens) / perSecond).rounded(.up))
        }
    }
}
