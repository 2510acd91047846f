import Foundation
import Synchronization

/// Token buckets keyed by client (peer address, or an authenticated identity): `burst` at
/// once, then `perSecond` on average. The table is bounded: when full, buckets that have
/// refilled (equivalent to no entry) go first, then the least recently used.
final class TokenBucket: Sendable {
    private struct Bucket { var tokens: Double; var updated: ContinuousClock.Instant }
    private let table = Mutex<[String: Bucket]>([:])
    private let burst: Double
    private let perSecond: Double
    private let capacity: Int

    init(burst: Int, perSecond: Double, capacity: Int = 4096) {
        self.burst = Double(max(1, burst))
        self.perSecond = max(0.000_1, perSecond)
        self.capacity = max(16, capacity)
    }

    private static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    /// nil when `client` had a token (now taken), else the whole seconds until it has one.
    func take(_ client: String = "*") -> Int? {
        table.withLock { t in
            let now = ContinuousClock.now
            var b = t[client] ?? Bucket(tokens: burst, updated: now)
            b.tokens = min(burst, b.tokens + Self.seconds(now - b.updated) * perSecond)
            b.updated = now
            let wait: Int?
            if b.tokens >= 1 {
                b.tokens -= 1
                wait = nil
            } else {
                wait = max(1, Int(((1 - b.tokens) / perSecond).rounded(.up)))
            }
            if t[client] == nil && t.count >= capacity { evict(&t, now: now) }
            t[client] = b
            return wait
        }
    }

    /// Whether `client` has a token left, without taking one.
    func hasToken(_ client: String) -> Bool {
        table.withLock { t in
            guard let b = t[client] else { return true }
            return b.tokens + Self.seconds(ContinuousClock.now - b.updated) * perSecond >= 1
        }
    }

    var count: Int { table.withLock { $0.count } }

    private func evict(_ t: inout [String: Bucket], now: ContinuousClock.Instant) {
        let full = burst, rate = perSecond
        t = t.filter { $0.value.tokens + Self.seconds(now - $0.value.updated) * rate < full }
        if t.count >= capacity {
            // Still full of active clients: drop the oldest eighth.
            let oldest = t.sorted { $0.value.updated < $1.value.updated }.prefix(max(1, capacity / 8)).map(\.key)
            for key in oldest { t[key] = nil }
        }
    }
}
