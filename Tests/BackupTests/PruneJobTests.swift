import Backup
import Foundation
import ObjectStore
import Testing
import TestSupport

/// Backup keys at fixed ages before `now`, so retention's cut-off is exact.
private struct AgedBackups {
    static let now = Date(timeIntervalSince1970: 1_781_524_800)  // 2026-06-15 12:00:00 UTC
    static func key(daysAgo days: Double, sequence: Int = 0) -> String {
        BackupKey.make(prefix: "backups/", date: now.addingTimeInterval(-days * 86_400), sequence: sequence)
    }
    /// Keys no prune may touch however old they look: other names, a nested folder, another
    /// prefix, an impossible date.
    static let notBackups = ["backups/readme.txt", "backups/database-2020-01-01-00-00-00.sql.gz.bak",
                             "backups/old/database-2020-01-01-00-00-00.sql.gz", "other/database-2020-01-01-00-00-00.sql.gz",
                             "backups/database-2020-02-30-00-00-00.sql.gz"]
}

@Suite("prune job, in process")
struct PruneJobTests {
    @Test("retention: the newest keep-last survive whatever their age, then only backups past the days go; dry run deletes nothing")
    func keepLastAndDays() throws {
        let fixture = try JobFixture("job-prune-retention")
        defer { fixture.remove() }
        let ages: [Double] = [0.04, 2, 10, 20, 40, 41]
        let keys = ages.map { AgedBackups.key(daysAgo: $0) }
        for key in keys + AgedBackups.notBackups {
            try fixture.store.put(key: key, bytes: Array(key.utf8), metadata: ["backup-size": "1"], contentType: "application/gzip")
        }
        let policy = RetentionPolicy(retentionDays: 30, keepLast: 2)

        let dry = try PruneJob.run(destination: fixture.destination, policy: policy, dryRun: true, now: AgedBackups.now)
        #expect(dry.deleted == [keys[4], keys[5]])
        #expect(dry.dryRun && dry.kept == 4)
        #expect(dry.json.rendered.contains(#""dry_run":true"#))
        for key in keys { #expect(try fixture.store.head(key: key) != nil, "dry run deleted \(key)") }

        let result = try PruneJob.run(destination: fixture.destination, policy: policy, dryRun: false, now: AgedBackups.now)
        #expect(result.deleted == [keys[4], keys[5]])
        #expect(result.kept == 4 && !result.dryRun)
        #expect(result.json.rendered == #"{"success":true,"deleted_count":2,"deleted":["\#(keys[4])","\#(keys[5])"]}"#)
        // The object and its metadata file both go; everything else stays.
        for key in keys.suffix(2) {
            #expect(!FileManager.default.fileExists(atPath: fixture.store.root + "/" + key))
            #expect(!FileManager.default.fileExists(atPath: fixture.store.root + "/" + key + ".meta.json"))
        }
        for key in keys.prefix(4) + AgedBackups.notBackups { #expect(try fixture.store.head(key: key) != nil, "\(key) was deleted") }

        // keep-last above the count of young backups protects old ones too.
        let kept = try PruneJob.run(destination: fixture.destination, policy: RetentionPolicy(retentionDays: 1, keepLast: 3),
                                    dryRun: false, now: AgedBackups.now)
        #expect(kept.deleted == [keys[3]])
        #expect(try BackupListing.entries(in: fixture.store, prefix: "backups/").map(\.info.key) == Array(keys.prefix(3)))
        // keep-last 0 leaves only what is younger than the days.
        let none = try PruneJob.run(destination: fixture.destination, policy: RetentionPolicy(retentionDays: 1, keepLast: 0),
                                    dryRun: false, now: AgedBackups.now)
        #expect(none.deleted == [keys[1], keys[2]])
        #expect(try BackupListing.entries(in: fixture.store, prefix: "backups/").map(\.info.key) == [keys[0]])
        for key in AgedBackups.notBackups { #expect(try fixture.store.head(key: key) != nil, "\(key) was deleted") }
    }

    @Test("within one second the highest sequence is the newest, so keep-last keeps it")
    func sequenceOrder() throws {
        let fixture = try JobFixture("job-prune-sequence")
        defer { fixture.remove() }
        let keys = (0...2).map { AgedBackups.key(daysAgo: 50, sequence: $0) }
        for key in keys.reversed() { try fixture.store.put(key: key, bytes: [1], metadata: [:], contentType: "application/gzip") }
        let result = try PruneJob.run(destination: fixture.destination, policy: RetentionPolicy(retentionDays: 7, keepLast: 1),
                                      dryRun: false, now: AgedBackups.now)
        #expect(result.deleted == [keys[1], keys[0]])
        #expect(try fixture.store.list(prefix: "backups").map(\.key) == [keys[2]])
    }

    @Test("orphan metadata files: old ones go, a young one (an upload finishing) and a dry run leave them")
    func orphanMetadata() throws {
        let fixture = try JobFixture("job-prune-orphans")
        defer { fixture.remove() }
        let old = AgedBackups.key(daysAgo: 1), young = AgedBackups.key(daysAgo: 2), live = AgedBackups.key(daysAgo: 3)
        let elsewhere = "other/database-2020-01-01-00-00-00.sql.gz"
        for key in [old, young, live, elsewhere] {
            try fixture.store.put(key: key, bytes: [1], metadata: ["backup-size": "1"], contentType: "application/gzip")
        }
        let root = fixture.store.root + "/"
        for key in [old, young, elsewhere] { #expect(unlink(root + key) == 0) }
        let anHourAgo = Date().addingTimeInterval(-3600)
        for key in [old, elsewhere] {
            try FileManager.default.setAttributes([.modificationDate: anHourAgo], ofItemAtPath: root + key + ".meta.json")
        }
        let policy = RetentionPolicy(retentionDays: 30, keepLast: 3)

        _ = try PruneJob.run(destination: fixture.destination, policy: policy, dryRun: true)
        #expect(FileManager.default.fileExists(atPath: root + old + ".meta.json"))

        let result = try PruneJob.run(destination: fixture.destination, policy: policy, dryRun: false)
        #expect(result.deleted.isEmpty && result.kept == 1)
        #expect(!FileManager.default.fileExists(atPath: root + old + ".meta.json"))
        #expect(FileManager.default.fileExists(atPath: root + young + ".meta.json"))
        #expect(FileManager.default.fileExists(atPath: root + elsewhere + ".meta.json"))
        #expect(try fixture.store.head(key: live)?.metadata == ["backup-size": "1"])
    }

    @Test("a prune records one activity_log row with what it deleted and the policy; a dry run records none")
    func activityLog() throws {
        let fixture = try JobFixture("job-prune-log")
        defer { fixture.remove() }
        try fixture.addActivityLog()
        let keys = [AgedBackups.key(daysAgo: 1), AgedBackups.key(daysAgo: 100)]
        for key in keys { try fixture.store.put(key: key, bytes: [1], metadata: [:], contentType: "application/gzip") }
        let policy = RetentionPolicy(retentionDays: 30, keepLast: 1)
        _ = try PruneJob.run(destination: fixture.destination, policy: policy, dryRun: true, databasePath: fixture.database,
                             now: AgedBackups.now)
        #expect(try TestDatabase(fixture.database).strings("SELECT action FROM activity_log").isEmpty)

        _ = try PruneJob.run(destination: fixture.destination, policy: policy, dryRun: false, databasePath: fixture.database,
                             userID: "admin-7", now: AgedBackups.now)
        let rows = try TestDatabase(fixture.database).query("SELECT action, user_id FROM activity_log")
        #expect(rows.count == 1)
        #expect(rows.first?.first == .text(Array("backups_cleaned_up".utf8)))
        #expect(rows.first?.last == .text(Array("admin-7".utf8)))
        let details = try TestDatabase(fixture.database).strings("SELECT details FROM activity_log")
        let json = try #require(try JSONSerialization.jsonObject(with: Data((details.first ?? "").utf8)) as? [String: Any])
        #expect(json["deleted_count"] as? Int == 1)
        #expect(json["deleted"] as? [String] == [keys[1]])
        #expect(json["retention_days"] as? Int == 30 && json["keep_last"] as? Int == 1)
    }

    @Test("a refused delete fails the prune itself, but after a stored backup it is only a warning")
    func refusedDelete() throws {
        let fixture = try JobFixture("job-prune-refused")
        defer { fixture.remove() }
        try fixture.addActivityLog()
        let old = AgedBackups.key(daysAgo: 400)
        try fixture.store.put(key: old, bytes: [1], metadata: [:], contentType: "application/gzip")
        let refusing = BackupDestination(store: NoDeleteStore(base: fixture.store), prefix: "backups/")
        let policy = RetentionPolicy(retentionDays: 1, keepLast: 0)
        expectError({ _ = try PruneJob.run(destination: refusing, policy: policy, dryRun: false, databasePath: fixture.database) },
                    where: { $0 is NoDeleteStore.Refused })
        #expect(try fixture.store.head(key: old) != nil)
        #expect(try TestDatabase(fixture.database).strings("SELECT action FROM activity_log").isEmpty)

        let warnings = Warnings()
        let entry = try fixture.backup(to: refusing) { options in
            options.prune = true
            options.retention = policy
            options.warn = { warnings.add($0) }
        }
        #expect(try fixture.store.head(key: entry.info.key)?.size == entry.info.size)
        #expect(try fixture.store.head(key: old) != nil)
        #expect(warnings.lines.contains { $0.contains("delete is not allowed") }, "\(warnings.lines)")
        // The backup is logged as created; no cleanup row claims a deletion that did not happen.
        #expect(try TestDatabase(fixture.database).strings("SELECT action FROM activity_log") == ["database_backup_created"])
    }

    @Test("moto: the expired backups are deleted from the bucket and nothing else")
    func s3Prune() throws {
        let moto = try motoDestination("job-prune")
        let keys = [0.5, 3, 45, 60, 90].map { AgedBackups.key(daysAgo: $0) }
        let scratch = try TemporaryDirectory("job-prune-s3")
        defer { scratch.remove() }
        let body = scratch.file("body")
        #expect(FileManager.default.createFile(atPath: body, contents: Data("x".utf8)))
        for key in keys + ["backups/notes.txt", "backups/keep/database-2020-01-01-00-00-00.sql.gz"] {
            let put = try moto.server.aws(["s3api", "put-object", "--bucket", moto.bucket, "--key", key, "--body", body])
            #expect(put.status == 0, "\(put.stderrText)")
        }
        let result = try PruneJob.run(destination: moto.destination, policy: RetentionPolicy(retentionDays: 30, keepLast: 3),
                                      dryRun: false, now: AgedBackups.now)
        #expect(result.deleted == [keys[3], keys[4]])
        #expect(result.kept == 3)
        let listed = try moto.server.aws(["s3api", "list-objects-v2", "--bucket", moto.bucket, "--query", "Contents[].Key", "--output", "text"])
        #expect(listed.status == 0, "\(listed.stderrText)")
        let remaining = Set(listed.stdoutText.split(whereSeparator: \.isWhitespace).map(String.init))
        #expect(remaining == Set(keys.prefix(3) + ["backups/notes.txt", "backups/keep/database-2020-01-01-00-00-00.sql.gz"]))
    }
}
