import Foundation
import ObjectStore
import Support

/// Leases in the store: how several replicas sharing one store run each backup exactly once,
/// with no coordinator but the store's conditional writes.
///
/// A run is claimed by creating `<prefix><database>/<run>.json` with `If-None-Match: *` (one
/// creator wins), and every later change — renewal, finish, the takeover of an expired lease —
/// is written with `If-Match` on the ETag the writer last saw, so of two replicas acting on one
/// version only one succeeds. A holder that dies stops renewing; once `expires` passes, the next
/// claimer takes the lease over.
///
/// Expiry is judged by the reader's clock: replicas' clocks must agree to well within `ttl`
/// (NTP keeps them within milliseconds; a ttl of minutes leaves ample margin), and a holder must
/// renew well before `ttl` runs out. Calls block the calling thread.
package final class LeaseManager: Sendable {
    package let store: any ObjectStore
    package let prefix: String
    package let holder: String
    package let ttl: TimeInterval
    private let now: @Sendable () -> Date
    /// How long a fresh claim waits before reading itself back (see `confirm`); 0 skips it.
    package let settle: TimeInterval

    /// A lease object larger than this is not one of ours.
    static let maximumBodyBytes = 64 * 1024
    static let contentType = "application/json"

    package init(store: any ObjectStore, prefix: String, holder: String, ttl: TimeInterval,
                 now: @escaping @Sendable () -> Date = { Date() }, settle: TimeInterval = 0) {
        self.settle = settle
        self.store = store
        self.prefix = prefix
        self.holder = holder
        self.ttl = ttl
        self.now = now
    }

    package func key(database: String, run: String) -> String { "\(prefix)\(database)/\(run).json" }

    /// Claims `run` of `database` for this holder, or says who has it.
    package func claim(database: String, run: String) throws -> LeaseClaim {
        let key = key(database: database, run: run)
        // A few rounds: a lease may vanish (swept) or two conditional writes may both be
        // refused (S3's 409 ConditionalRequestConflict) between our write and our read.
        for _ in 0..<4 {
            let time = now()
            do {
                return try confirm(try write(database: database, run: run, key: key, acquired: time, expires: time + ttl,
                                             state: .running, backupKey: nil, condition: .ifAbsent))
            } catch let error as ObjectStoreError where error.code == .preconditionFailed {
                // Someone created it first: see what it says.
            } catch {
                throw storeError(error, key: key, doing: "claim")
            }
            let found: StoredLease?
            do {
                found = try readStored(key: key)
            } catch {
                throw storeError(error, key: key, doing: "read")
            }
            let etag: String
            switch found {
            case nil: continue
            case .lease(let lease):
                if lease.state != .running { return .finished(lease) }
                if !lease.isExpired(at: now()) { return .held(lease) }
                etag = lease.etag
            case .unreadable(let unreadableETag, _):
                // Anyone with a key to the bucket can write there: a body we cannot read is
                // taken over like an expired lease, and only in the version we saw.
                etag = unreadableETag
            }
            let taken = now()
            do {
                return try confirm(try write(database: database, run: run, key: key, acquired: taken, expires: taken + ttl,
                                             state: .running, backupKey: nil, condition: .ifMatch(etag)))
            } catch let error as ObjectStoreError where error.code == .preconditionFailed || error.code == .notFound {
                // Another replica took it over (or it was swept) first: read again.
            } catch {
                throw storeError(error, key: key, doing: "take over")
            }
        }
        throw LeaseError(.store, "the lease \(key) in \(store.displayName) kept changing while it was being claimed; "
                         + "nothing was claimed, try again", key: key)
    }

    /// A claim the store accepted, read back after `settle` when that is set: S3, R2 and the
    /// folder store check conditions atomically, but some S3-compatible servers (moto among
    /// them) check and then write without a lock, so two racing writers can both be told they
    /// won. The version that stays is the last one written; only its writer runs.
    private func confirm(_ lease: Lease) throws -> LeaseClaim {
        guard settle > 0 else { return .claimed(lease) }
        Thread.sleep(forTimeInterval: settle)
        let found: StoredLease?
        do {
            found = try readStored(key: lease.key)
        } catch {
            throw storeError(error, key: lease.key, doing: "confirm")
        }
        switch found {
        case .lease(let stored) where stored.etag == lease.etag: return .claimed(lease)
        case .lease(let stored): return stored.state == .running ? .held(stored) : .finished(stored)
        case .unreadable, nil:
            throw LeaseError(.store, "the lease \(lease.key) in \(store.displayName) changed right after it was claimed; "
                             + "nothing was run, the next claim decides", key: lease.key)
        }
    }

    /// Extends the lease by `ttl` from now. Throws `.lost` when another replica has changed it
    /// (took it over after it expired): the caller must stop the run.
    package func renew(_ lease: Lease) throws -> Lease {
        let time = now()
        return try change(lease, doing: "renew") {
            try write(database: lease.database, run: lease.run, key: lease.key, acquired: lease.acquired, expires: time + ttl,
                      state: .running, backupKey: nil, condition: .ifMatch(lease.etag))
        }
    }

    /// Marks the run done or failed (a `.running` state counts as failed), recording
    /// `backupKey`; every later claim answers `.finished`. Throws `.lost` as `renew` does.
    package func finish(_ lease: Lease, state: LeaseState, backupKey: String?) throws -> Lease {
        let final: LeaseState = state == .running ? .failed : state
        let time = now()
        return try change(lease, doing: "finish") {
            try write(database: lease.database, run: lease.run, key: lease.key, acquired: lease.acquired, expires: time,
                      state: final, backupKey: backupKey, condition: .ifMatch(lease.etag))
        }
    }

    /// The lease of `run`, nil when there is none. Throws `.unreadable` for a body that is not a lease.
    package func read(database: String, run: String) throws -> Lease? {
        let key = key(database: database, run: run)
        let found: StoredLease?
        do {
            found = try readStored(key: key)
        } catch {
            throw storeError(error, key: key, doing: "read")
        }
        switch found {
        case nil: return nil
        case .lease(let lease): return lease
        case .unreadable(_, let reason):
            throw LeaseError(.unreadable, "the lease \(key) in \(store.displayName) is not a lease Backstream can read (\(reason)); "
                             + "a claim will take it over", key: key)
        }
    }

    /// Deletes the done and failed leases last written before `finishedBefore` and returns
    /// how many. Running and unreadable leases are left. Sweep only runs that no replica will
    /// claim again (well past their scheduled time), or a late replica would find no lease.
    package func sweep(finishedBefore: Date) throws -> Int {
        let old: [ObjectInfo]
        do {
            old = try store.list(prefix: prefix).filter { $0.key.hasSuffix(".json") && $0.lastModified < finishedBefore }
        } catch {
            throw storeError(error, key: prefix, doing: "list")
        }
        var finished: [String] = []
        for info in old {
            // A lease that changed since the listing is judged by what it is now.
            guard case .lease(let lease)? = try? readStored(key: info.key), lease.state != .running else { continue }
            finished.append(info.key)
        }
        do {
            try store.delete(keys: finished)
        } catch {
            throw storeError(error, key: prefix, doing: "sweep")
        }
        return finished.count
    }

    /// The run id of the run scheduled at `scheduled`: the same on every replica,
    /// `2026-12-03T15-04-00Z` (UTC, whole seconds).
    package static func runID(scheduled: Date) -> String {
        let c = Self.calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: scheduled)
        return String(format: "%04d-%02d-%02dT%02d-%02d-%02dZ", c.year ?? 0, c.month ?? 0, c.day ?? 0,
                      c.hour ?? 0, c.minute ?? 0, c.second ?? 0)
    }

    /// A run id for a manual trigger at `now`, unique to it: `manual-2026-12-03T15-04-05Z-1f2e3d4c5b6a7980`.
    package static func manualRunID(now: Date) -> String {
        "manual-\(runID(scheduled: now))-\(String(UInt64.random(in: 0...UInt64.max), radix: 16))"
    }

    private static let calendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        return calendar
    }()

    // MARK: Internals

    private func change(_ lease: Lease, doing: String, _ body: () throws -> Lease) throws -> Lease {
        do {
            return try body()
        } catch let error as ObjectStoreError where error.code == .preconditionFailed || error.code == .notFound {
            throw LeaseError(.lost, "the lease \(lease.key) in \(store.displayName) is no longer held by \(holder): another replica "
                             + "took it over after it expired, or it was removed; stop this run (\(doing) refused: \(error.cause))",
                             key: lease.key)
        } catch {
            throw storeError(error, key: lease.key, doing: doing)
        }
    }

    private func write(database: String, run: String, key: String, acquired: Date, expires: Date, state: LeaseState,
                       backupKey: String?, condition: WriteCondition) throws -> Lease {
        let body = LeaseBody(database: database, run: run, holder: holder, state: state,
                             expires: Timestamp.iso8601(expires), acquired: Timestamp.iso8601(acquired), backupKey: backupKey)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let bytes = try Array(encoder.encode(body))
        let returned = try store.put(key: key, bytes: bytes, metadata: [:], contentType: Self.contentType, condition: condition)
        // A store that does not say the ETag on write (none of ours) is asked once.
        guard let etag = try returned ?? store.head(key: key)?.etag else {
            throw LeaseError(.store, "\(store.displayName) stored the lease \(key) but gave no ETag to change it by; "
                             + "leases need a store that reports ETags", key: key)
        }
        // The parsed times, so the Lease equals what a reader of the object gets.
        return Lease(database: database, run: run, key: key, etag: etag, holder: holder,
                     expires: HTTPDate.parseISO8601(body.expires) ?? expires, state: state, backupKey: backupKey,
                     acquired: HTTPDate.parseISO8601(body.acquired) ?? acquired)
    }

    private enum StoredLease {
        case lease(Lease)
        case unreadable(etag: String, reason: String)
    }

    /// The lease object with the ETag of the very version read: HEAD, GET, HEAD, again while
    /// the two ETags differ (a write in between). nil when there is none.
    private func readStored(key: String) throws -> StoredLease? {
        // One request: the body and the ETag of that very version (a ranged GET on S3).
        let version: ObjectVersion
        do {
            guard let found = try store.getVersion(key: key, limit: Self.maximumBodyBytes) else { return nil }
            version = found
        } catch let error as ObjectStoreError where error.code == .invalidArgument && !error.isInvalidKey {
            // Too large to be ours: taken over, like garbage, by the ETag of what is there.
            guard let etag = try store.head(key: key)?.etag else { return nil }
            return .unreadable(etag: etag, reason: "larger than \(Self.maximumBodyBytes) bytes")
        }
        let etag = version.etag
        guard let body = try? JSONDecoder().decode(LeaseBody.self, from: Data(version.bytes)) else {
            return .unreadable(etag: etag, reason: "not the JSON of a lease")
        }
        guard let expires = HTTPDate.parseISO8601(body.expires), let acquired = HTTPDate.parseISO8601(body.acquired) else {
            return .unreadable(etag: etag, reason: "its times are not ISO 8601")
        }
        return .lease(Lease(database: body.database, run: body.run, key: key, etag: etag, holder: body.holder,
                            expires: expires, state: body.state, backupKey: body.backupKey, acquired: acquired))
    }

    private func storeError(_ error: any Error, key: String, doing: String) -> any Error {
        if error is LeaseError { return error }
        return LeaseError(.store, "cannot \(doing) the lease \(key) in \(store.displayName): \(error)", key: key)
    }
}

/// The lease object's JSON.
private struct LeaseBody: Codable {
    var database: String
    var run: String
    var holder: String
    var state: LeaseState
    /// ISO 8601 UTC with milliseconds.
    var expires: String
    var acquired: String
    var backupKey: String?

    enum CodingKeys: String, CodingKey {
        case database, run, holder, state, expires, acquired
        case backupKey = "backup_key"
    }
}
