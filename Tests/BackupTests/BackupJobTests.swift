import Backup
import ChunkIO
import Foundation
import ObjectStore
import SQLiteDump
import Support
import Testing
import TestSupport

@Suite("backup job, in process")
struct BackupJobTests {
    @Test("the object appears at the guide's key with its metadata, and the result says the same")
    func objectAndMetadata() throws {
        let fixture = try JobFixture("job-backup")
        defer { fixture.remove() }
        let before = Date()
        var options = JobFixture.options()
        options.activityLog = false
        let result = try BackupJob.run(databasePath: fixture.database, destination: fixture.destination, options: options)

        let key = try #require(BackupKey(key: result.key, prefix: "backups/"))
        #expect(key.compressed)
        #expect(abs(key.timestamp.timeIntervalSince(before)) < 5)
        let info = try #require(try fixture.store.head(key: result.key))
        #expect(FileManager.default.fileExists(atPath: fixture.store.root + "/" + result.key))
        #expect(info.size == result.size)
        #expect(info.metadata == result.metadata)
        #expect(info.metadata[BackupMetadata.size] == String(info.size))
        #expect(info.metadata[BackupMetadata.tablesCount] == "11")
        #expect(info.metadata[BackupMetadata.rowsCount] == String(try fixture.rowCount()))
        #expect(info.metadata[BackupMetadata.dialect] == "sqlite")
        #expect(info.metadata[BackupMetadata.compression] == "gzip")
        #expect(info.metadata[BackupMetadata.contentCRC32] == String(result.contentCRC32))
        #expect(info.metadata[BackupMetadata.sqlBytes] == String(result.sqlBytes))
        let stamp = try #require(info.metadata[BackupMetadata.timestamp])
        #expect(BackupKey.make(prefix: "backups/", date: try #require(ISO8601DateFormatter.fractional.date(from: stamp))) == result.key)
        #expect(result.rows == (try fixture.rowCount()))
        #expect(result.deletedCount == nil && result.pruneError == nil)
    }

    @Test("the stored dump restores with the real sqlite3 CLI to the same database")
    func restoresWithSQLite3() throws {
        let fixture = try JobFixture("job-backup-cli")
        defer { fixture.remove() }
        let entry = try fixture.backup()
        let object = fixture.store.root + "/" + entry.info.key
        let restored = fixture.dir.file("restored.db")
        let load = try ProcessRunner.shell("gunzip -c '\(object)' | sqlite3 -bail '\(restored)'")
        #expect(load.status == 0, "\(load.stderrText)")
        #expect(try DatabaseComparison.differences(fixture.database, restored).isEmpty)
    }

    @Test("a backup whose second is taken gets the sequence suffix, never the existing key")
    func takenSecond() throws {
        let fixture = try JobFixture("job-backup-same-second")
        defer { fixture.remove() }
        // Plain keys for every second around now, so whichever second the backup starts in is taken.
        let now = Date()
        let taken = (-2...120).map { BackupKey.make(prefix: "backups/", date: now.addingTimeInterval(Double($0))) }
        for key in taken { try fixture.store.put(key: key, bytes: [0], metadata: [:], contentType: "application/gzip") }
        let entry = try fixture.backup()
        #expect(!taken.contains(entry.info.key))
        #expect(entry.key.sequence == 1)
        #expect(try fixture.store.head(key: taken[0])?.size == 1)
    }

    @Test("retention runs after the upload: old backups go, the newest survive")
    func retentionPrunes() throws {
        let fixture = try JobFixture("job-backup-retention")
        defer { fixture.remove() }
        let old = (1...4).map { BackupKey.make(prefix: "backups/", date: Date(timeIntervalSince1970: 1_600_000_000 + Double($0) * 86_400)) }
        for key in old { try fixture.store.put(key: key, bytes: [1], metadata: [:], contentType: "application/gzip") }
        let entry = try fixture.backup { options in
            options.prune = true
            options.retention = RetentionPolicy(retentionDays: 7, keepLast: 2)
        }
        let remaining = try BackupListing.entries(in: fixture.store, prefix: "backups/").map(\.info.key)
        // The new backup and the newest old one are the two kept; the other three are deleted.
        #expect(remaining == [entry.info.key, old[3]])
        var options = JobFixture.options()
        options.prune = true
        options.retention = RetentionPolicy(retentionDays: 7, keepLast: 1)
        options.activityLog = false
        let result = try BackupJob.run(databasePath: fixture.database, destination: fixture.destination, options: options)
        #expect(result.deletedCount == 1)
        #expect(result.json.rendered.contains(#""deleted_count":1"#))
    }

    @Test("the activity log gets one row per backup, with its trigger, user and details")
    func activityLog() throws {
        let fixture = try JobFixture("job-backup-log")
        defer { fixture.remove() }
        try fixture.addActivityLog()
        let manual = try fixture.backup { $0.userID = "admin-1" }
        let scheduled = try fixture.backup { $0.trigger = .scheduled }
        let rows = try TestDatabase(fixture.database).query("SELECT action, user_id, details FROM activity_log ORDER BY id")
        #expect(rows.count == 2)
        #expect(rows.first?.first == .text(Array("database_backup_created".utf8)))
        #expect(rows.first?[1] == .text(Array("admin-1".utf8)))
        #expect(rows.last?.first == .text(Array("scheduled_backup_completed".utf8)))
        #expect(rows.last?[1] == .null)
        let details = try TestDatabase(fixture.database).strings("SELECT details FROM activity_log ORDER BY id")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(details[0].utf8)) as? [String: Any])
        #expect(json["key"] as? String == manual.info.key)
        #expect(json["size"] as? Int == manual.info.size)
        #expect((json["metadata"] as? [String: String])?[BackupMetadata.rowsCount] == manual.info.metadata[BackupMetadata.rowsCount])
        #expect(details[1].contains(scheduled.info.key))
    }

    @Test("an interrupted backup leaves no object and logs the failure")
    func cancelledLeavesNothing() throws {
        let fixture = try JobFixture("job-backup-cancel")
        defer { fixture.remove() }
        try fixture.addActivityLog()
        let cancellation = Cancellation()
        cancellation.cancel()
        expectError({ _ = try fixture.backup { $0.cancellation = cancellation } },
                    where: { $0 is CancelledError || ($0 as? DumpError)?.code == .cancelled })
        #expect(try fixture.store.list(prefix: "backups").isEmpty)
        #expect(try TestDatabase(fixture.database).strings("SELECT action FROM activity_log") == ["database_backup_failed"])
        let details = try TestDatabase(fixture.database).strings("SELECT details FROM activity_log")
        #expect(details.first?.contains("\"started\"") == true)
    }

    @Test("a database that is not there fails with no object written and is not created")
    func missingDatabase() throws {
        let fixture = try JobFixture("job-backup-missing")
        defer { fixture.remove() }
        expectError({ _ = try BackupJob.run(databasePath: fixture.dir.file("absent.db"), destination: fixture.destination,
                                            options: JobFixture.options()) },
                    where: { ($0 as? DumpError)?.code == .fileNotFound })
        #expect(try fixture.store.list(prefix: "").isEmpty)
        // Logging the failure must not create an empty database where none was.
        #expect(!FileManager.default.fileExists(atPath: fixture.dir.file("absent.db")))
    }

    @Test("moto: the object, its rewritten metadata and the dump are all on the S3 store")
    func s3Backup() throws {
        let fixture = try JobFixture("job-backup-s3")
        defer { fixture.remove() }
        let moto = try motoDestination("job-backup")
        let entry = try fixture.backup(to: moto.destination)
        // The checksum and size exist only after the upload: S3 got them by a metadata rewrite.
        #expect(entry.info.metadata[BackupMetadata.size] == String(entry.info.size))
        #expect(entry.info.metadata[BackupMetadata.contentCRC32] != nil)
        #expect(entry.info.metadata[BackupMetadata.rowsCount] == String(try fixture.rowCount()))
        let body = fixture.dir.file("object.sql.gz")
        let get = try moto.server.aws(["s3api", "get-object", "--bucket", moto.bucket, "--key", entry.info.key, body])
        #expect(get.status == 0, "\(get.stderrText)")
        let load = try ProcessRunner.shell("gunzip -c '\(body)' | sqlite3 -bail '\(fixture.dir.file("restored.db"))'")
        #expect(load.status == 0, "\(load.stderrText)")
        #expect(try DatabaseComparison.differences(fixture.database, fixture.dir.file("restored.db")).isEmpty)
        #expect(BackupListing.pendingUploads(in: moto.destination.store, prefix: "backups/").isEmpty)
    }
}

extension ISO8601DateFormatter {
    /// The guide's timestamps: ISO 8601 UTC with milliseconds.
    static var fractional: ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }
}
