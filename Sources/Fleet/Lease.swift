import Foundation

/// Where a run of a lease stands.
package enum LeaseState: String, Sendable, Codable {
    /// A holder is running it until `expires` (renewing while it works).
    case running
    /// Finished: never run again, whoever asks.
    case done, failed
}

/// The claim of one replica on one run of one database, as stored in its lease object.
package struct Lease: Sendable, Equatable {
    package let database: String
    /// The run's identity: `LeaseManager.runID(scheduled:)` or `manualRunID(now:)`.
    package let run: String
    /// The lease object's key.
    package let key: String
    /// The lease object's ETag: every change is conditional on it.
    package let etag: String
    /// The replica id of the holder (the caller's string, e.g. hostname:pid:random).
    package let holder: String
    /// Judged by the reader's clock, so replicas' clocks must agree to well within the ttl.
    package let expires: Date
    package let state: LeaseState
    /// The backup the run stored, once finished.
    package let backupKey: String?
    /// When the current holder claimed it.
    package let acquired: Date

    package init(database: String, run: String, key: String, etag: String, holder: String, expires: Date,
                 state: LeaseState, backupKey: String?, acquired: Date) {
        self.database = database
        self.run = run
        self.key = key
        self.etag = etag
        self.holder = holder
        self.expires = expires
        self.state = state
        self.backupKey = backupKey
        self.acquired = acquired
    }

    /// A running lease whose expiry has passed at `now`: its holder is presumed dead.
    package func isExpired(at now: Date) -> Bool { state == .running && expires <= now }
}

/// What `LeaseManager.claim` found.
package enum LeaseClaim: Sendable {
    /// This replica holds the run now: run it, renew while running, then `finish`.
    case claimed(Lease)
    /// A live lease of another claim (another replica, or an earlier claim of this one): skip.
    case held(Lease)
    /// The run is done or failed: never run it again.
    case finished(Lease)
}
