import Fleet
import Foundation
import ObjectStore
import Testing
import TestSupport

/// Leases against a real moto_server (conditional PutObject) and a folder store.
struct LeaseManagerTests {
    enum Kind: String, CaseIterable, CustomTestStringConvertible {
        case folder, s3
        var testDescription: String { rawValue }
    }

    /// A fresh empty store of `kind`; `cleanup` removes a folder store's folder.
    static func makeStore(_ kind: Kind) throws -> (store: any ObjectStore, cleanup: @Sendable () -> Void) {
        switch kind {
        case .folder:
            let dir = try TemporaryDirectory("leases")
            return (DirectoryStore(root: dir.file("store")), { dir.remove() })
        case .s3:
            let server = try S3TestServer()
            let bucket = try server.makeBucket("leases")
            let configuration = S3Configuration(endpoint: server.endpoint, region: server.region, accessKeyId: server.accessKey,
                                                secretAccessKey: server.secretKey, connectTimeout: 5, stallTimeout: 20)
            return (try S3Store(bucket: bucket, configuration: configuration), {})
        }
    }

    /// A clock the test moves by hand.
    final class Clock: @unchecked Sendable {
        private let lock = NSLock()
        private var current = Date(timeIntervalSince1970: 1_796_000_000)
        var now: Date { lock.withLock { current } }
        func advance(_ seconds: TimeInterval) { lock.withLock { current += seconds } }
    }

    /// No `/` in the prefix: moto checks the signature of a listing against the `%2F` of the
    /// prefix decoded, so it refuses a correctly signed one (S3 and R2 take it).
    static let prefix = "leases-"

    static func manager(_ store: any ObjectStore, _ holder: String, ttl: TimeInterval = 60, clock: Clock? = nil,
                        settle: TimeInterval = 0) -> LeaseManager {
        guard let clock else { return LeaseManager(store: store, prefix: Self.prefix, holder: holder, ttl: ttl, settle: settle) }
        return LeaseManager(store: store, prefix: Self.prefix, holder: holder, ttl: ttl, now: { clock.now }, settle: settle)
    }

    static let run = LeaseManager.runID(scheduled: Date(timeIntervalSince1970: 1_796_000_040))

    @Test(arguments: Kind.allCases)
    func claimRenewFinish(kind: Kind) throws {
        let (store, cleanup) = try Self.makeStore(kind)
        defer { cleanup() }
        let clock = Clock()
        let a = Self.manager(store, "host-a:1:aa", clock: clock)
        guard case .claimed(let lease) = try a.claim(database: "tenant-1", run: Self.run) else {
            Issue.record("the first claim did not claim")
            return
        }
        #expect(lease.key == "leases-tenant-1/\(Self.run).json")
        #expect(lease.holder == "host-a:1:aa" && lease.state == .running)
        #expect(lease.expires == clock.now + 60)
        #expect(try a.read(database: "tenant-1", run: Self.run) == lease)
        let info = try #require(try store.head(key: lease.key))
        #expect(info.etag == lease.etag)

        clock.advance(30)
        let renewed = try a.renew(lease)
        #expect(renewed.expires == clock.now + 60)
        #expect(renewed.etag != lease.etag)
        #expect(renewed.acquired == lease.acquired)

        let done = try a.finish(renewed, state: .done, backupKey: "backups/tenant-1/database-2026-12-03-15-04-00.sql.gz")
        #expect(done.state == .done)
        #expect(try a.read(database: "tenant-1", run: Self.run) == done)
        // The body is the documented JSON.
        let body = try JSONSerialization.jsonObject(with: Data(try store.getBytes(key: done.key, limit: 4096))) as? [String: Any]
        #expect(body?["database"] as? String == "tenant-1")
        #expect(body?["run"] as? String == Self.run)
        #expect(body?["holder"] as? String == "host-a:1:aa")
        #expect(body?["state"] as? String == "done")
        #expect(body?["backup_key"] as? String == "backups/tenant-1/database-2026-12-03-15-04-00.sql.gz")
        #expect((body?["expires"] as? String)?.hasSuffix(".000Z") == true)
        #expect(body?["acquired"] is String)
        if kind == .s3 { #expect(try store.head(key: done.key)?.etag == done.etag) }
    }

    @Test(arguments: Kind.allCases)
    func secondClaimerIsHeldAndFinishedIsFinishedForEveryone(kind: Kind) throws {
        let (store, cleanup) = try Self.makeStore(kind)
        defer { cleanup() }
        let a = Self.manager(store, "a")
        let b = Self.manager(store, "b")
        guard case .claimed(let lease) = try a.claim(database: "db", run: Self.run) else {
            Issue.record("the first claim did not claim")
            return
        }
        guard case .held(let seen) = try b.claim(database: "db", run: Self.run) else {
            Issue.record("a live lease was claimed twice")
            return
        }
        #expect(seen == lease)
        // The holder itself does not get a second claim of the same run either.
        guard case .held = try a.claim(database: "db", run: Self.run) else {
            Issue.record("the holder claimed its own live run again")
            return
        }
        let failed = try a.finish(lease, state: .failed, backupKey: nil)
        for manager in [a, b] {
            guard case .finished(let finished) = try manager.claim(database: "db", run: Self.run) else {
                Issue.record("a finished run was claimed again")
                return
            }
            #expect(finished == failed)
        }
        // Another run of the same database is free.
        guard case .claimed = try b.claim(database: "db", run: LeaseManager.manualRunID(now: Date())) else {
            Issue.record("a manual run's lease was not claimed")
            return
        }
    }

    @Test(arguments: Kind.allCases)
    func expiredLeaseIsTakenOverAndTheOldHolderLosesIt(kind: Kind) throws {
        let (store, cleanup) = try Self.makeStore(kind)
        defer { cleanup() }
        let clock = Clock()
        let a = Self.manager(store, "a", ttl: 5, clock: clock)
        let b = Self.manager(store, "b", ttl: 5, clock: clock)
        guard case .claimed(let old) = try a.claim(database: "db", run: Self.run) else {
            Issue.record("the first claim did not claim")
            return
        }
        clock.advance(4)
        guard case .held = try b.claim(database: "db", run: Self.run) else {
            Issue.record("a lease was taken over before it expired")
            return
        }
        clock.advance(2)
        guard case .claimed(let taken) = try b.claim(database: "db", run: Self.run) else {
            Issue.record("an expired lease was not taken over")
            return
        }
        #expect(taken.holder == "b")
        #expect(taken.expires == clock.now + 5)
        // The dead holder wakes up: its renew and finish are refused as .lost.
        for attempt in [{ _ = try a.renew(old) }, { _ = try a.finish(old, state: .done, backupKey: "k") }] {
            do {
                try attempt()
                Issue.record("the old holder changed a lease taken over")
            } catch let error as LeaseError {
                #expect(error.code == .lost, "\(error)")
                #expect(error.sentence.contains("another replica"))
            }
        }
        #expect(try b.read(database: "db", run: Self.run) == taken)
        _ = try b.renew(taken)
    }

    /// Exactly one claimer, on the folder store and on moto too, whose If-None-Match check is not
    /// atomic under load (see ConditionalWriteTests.exclusiveRace): the claim's read-back
    /// (`LeaseManager.confirm`) leaves only the writer of the version that stayed.
    @Test("two replicas claiming one run at the same instant: exactly one claims it, 20 rounds", arguments: Kind.allCases)
    func claimRace(kind: Kind) throws {
        let (store, cleanup) = try Self.makeStore(kind)
        defer { cleanup() }
        // moto needs the read-back; the folder store is atomic without it.
        let settle = kind == .folder ? 0 : 0.25
        let managers = [Self.manager(store, "replica-1", settle: settle), Self.manager(store, "replica-2", settle: settle)]
        for round in 0..<20 {
            let run = LeaseManager.runID(scheduled: Date(timeIntervalSince1970: 1_796_000_000 + Double(round) * 60))
            let results = ThreadRace.run(2) { index in try managers[index].claim(database: "db", run: run) }
            var claimed: [String] = []
            var held = 0
            for result in results {
                switch result {
                case .success(.claimed(let lease)): claimed.append(lease.holder)
                case .success(.held): held += 1
                case .success(.finished): Issue.record("round \(round): a fresh run reads as finished")
                case .failure(let error): Issue.record("round \(round): \(error)")
                }
            }
            #expect(claimed.count == 1 && held == 1, "round \(round): claimed by \(claimed), \(held) held")
            let holder = try managers[0].read(database: "db", run: run)?.holder
            #expect(holder.map { claimed.contains($0) } == true, "round \(round): the lease is \(holder ?? "missing")")
        }
    }

    @Test("a lease body that is not a lease never crashes, reads as unreadable and is taken over by its ETag",
          arguments: Kind.allCases)
    func garbageLease(kind: Kind) throws {
        let (store, cleanup) = try Self.makeStore(kind)
        defer { cleanup() }
        let manager = Self.manager(store, "a")
        let bodies: [[UInt8]] = [Array("not json {".utf8), Array(#"{"database":1}"#.utf8),
                                 Array(#"{"database":"db","run":"r","holder":"x","state":"running","expires":"soon","acquired":"then"}"#.utf8),
                                 Array(#"{"database":"db","run":"r","holder":"x","state":"paused","expires":"2026-01-01T00:00:00.000Z","acquired":"2026-01-01T00:00:00.000Z"}"#.utf8),
                                 [0xFF, 0x00, 0xFE], []]
        for (index, body) in bodies.enumerated() {
            let run = "garbage-\(index)"
            try store.put(key: "leases-db/\(run).json", bytes: body, metadata: [:], contentType: "application/json")
            do {
                _ = try manager.read(database: "db", run: run)
                Issue.record("body \(index) read as a lease")
            } catch let error as LeaseError {
                #expect(error.code == .unreadable, "\(error)")
            }
            guard case .claimed(let lease) = try manager.claim(database: "db", run: run) else {
                Issue.record("body \(index) was not taken over")
                continue
            }
            #expect(try manager.read(database: "db", run: run) == lease)
        }
        // Too large to be a lease: refused without reading it all, then taken over.
        try store.put(key: "leases-db/huge.json", bytes: [UInt8](repeating: 0x20, count: 200_000), metadata: [:],
                      contentType: "application/json")
        guard case .claimed = try manager.claim(database: "db", run: "huge") else {
            Issue.record("an oversized body was not taken over")
            return
        }
    }

    @Test(arguments: Kind.allCases)
    func sweepDeletesOnlyOldFinishedLeases(kind: Kind) throws {
        let (store, cleanup) = try Self.makeStore(kind)
        defer { cleanup() }
        let manager = Self.manager(store, "a")
        var finished: [Lease] = []
        for index in 0..<3 {
            guard case .claimed(let lease) = try manager.claim(database: "db\(index)", run: Self.run) else {
                Issue.record("claim \(index) failed")
                return
            }
            if index < 2 { finished.append(try manager.finish(lease, state: index == 0 ? .done : .failed, backupKey: nil)) }
        }
        try store.put(key: "leases-db9/\(Self.run).json", bytes: Array("junk".utf8), metadata: [:], contentType: "application/json")
        #expect(try manager.sweep(finishedBefore: Date().addingTimeInterval(-3600)) == 0)
        #expect(try manager.sweep(finishedBefore: Date().addingTimeInterval(3600)) == 2)
        #expect(try store.list(prefix: "leases-").map(\.key) == ["leases-db2/\(Self.run).json", "leases-db9/\(Self.run).json"])
    }

    @Test func runIDs() {
        #expect(LeaseManager.runID(scheduled: Date(timeIntervalSince1970: 1_796_310_240)) == "2026-12-03T15-04-00Z")
        let manual = LeaseManager.manualRunID(now: Date(timeIntervalSince1970: 1_796_310_245))
        #expect(manual.hasPrefix("manual-2026-12-03T15-04-05Z-"))
        #expect(manual != LeaseManager.manualRunID(now: Date(timeIntervalSince1970: 1_796_310_245)))
    }
}
