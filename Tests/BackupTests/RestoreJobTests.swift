import Backup
import Foundation
import ObjectStore
import SQLiteDump
import Testing
import TestSupport

@Suite("restore job, in process")
struct RestoreJobTests {
    @Test("a restore to a new path equals the source, and the report says what it checked")
    func restoresToNewPath() throws {
        let fixture = try JobFixture("job-restore")
        defer { fixture.remove() }
        let entry = try fixture.backup()
        let target = fixture.dir.file("restored.db")
        let report = try RestoreJob.restore(entry, from: fixture.destination, into: target, force: false)
        #expect(try DatabaseComparison.differences(fixture.database, target).isEmpty)
        #expect(report.ok && report.problems.isEmpty, "\(report.problems)")
        #expect(report.key == entry.info.key)
        #expect(report.complete && !report.foreign)
        #expect(report.integrity == "ok")
        #expect(report.rows == (try fixture.rowCount()))
        #expect(report.tables.count == 11 && report.tables.allSatisfy { $0.expected == $0.actual })
        #expect(report.expectedCRC32 == report.actualCRC32)
        #expect(String(report.sqlBytes) == entry.info.metadata[BackupMetadata.sqlBytes])
        // Only the target is left: the temporary file beside it was renamed into place.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: fixture.dir.path).filter { $0.contains(".restore-") }
        #expect(leftovers.isEmpty)
    }

    @Test("an existing target is refused without force and left as it was; with force it is replaced")
    func existingTarget() throws {
        let fixture = try JobFixture("job-restore-existing")
        defer { fixture.remove() }
        let entry = try fixture.backup()
        let target = fixture.dir.file("live.db")
        try TestDatabase(target).execute("CREATE TABLE precious(v); INSERT INTO precious VALUES ('keep me');")
        expectError({ _ = try RestoreJob.restore(entry, from: fixture.destination, into: target, force: false) },
                    where: { ($0 as? BackupError)?.code == .targetExists })
        #expect(try TestDatabase(target).strings("SELECT v FROM precious") == ["keep me"])

        // An empty file with a journal beside it holds a half-written transaction: refused too.
        let empty = fixture.dir.file("empty.db")
        #expect(FileManager.default.createFile(atPath: empty, contents: nil))
        #expect(FileManager.default.createFile(atPath: empty + "-journal", contents: Data([1])))
        expectError({ _ = try RestoreJob.restore(entry, from: fixture.destination, into: empty, force: false) },
                    where: { ($0 as? BackupError)?.code == .targetExists })

        _ = try RestoreJob.restore(entry, from: fixture.destination, into: target, force: true)
        #expect(try DatabaseComparison.differences(fixture.database, target).isEmpty)
        _ = try RestoreJob.restore(entry, from: fixture.destination, into: empty, force: true)
        #expect(!FileManager.default.fileExists(atPath: empty + "-journal"))
        #expect(try DatabaseComparison.differences(fixture.database, empty).isEmpty)
    }

    @Test("the source's recorded checks travel with the backup: reproduced violations are a note, not a problem")
    func sourceChecksAndNotes() throws {
        let fixture = try JobFixture("job-restore-checks")
        defer { fixture.remove() }
        let source = fixture.dir.file("orphans.db")
        try TestDatabase(source).execute("""
            CREATE TABLE parent(id INTEGER PRIMARY KEY);
            CREATE TABLE child(id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id));
            INSERT INTO parent VALUES (1); INSERT INTO child VALUES (1, 1), (2, 99);
            """)
        let result = try BackupJob.run(databasePath: source, destination: fixture.destination, options: JobFixture.options())
        let entry = try fixture.destination.resolveKey(result.key)
        let report = try RestoreJob.restore(entry, from: fixture.destination, into: fixture.dir.file("r.db"), force: false)
        #expect(report.ok, "\(report.problems)")
        #expect(report.sourceChecks?.foreignKeyViolations == 1)
        #expect(report.sourceChecks?.integrityOK == true)
        #expect(report.foreignKeyViolations == 1)
        #expect(report.notes.contains { $0.contains("reproduces exactly the same ones") }, "\(report.notes)")
        #expect(try TestDatabase(fixture.dir.file("r.db")).strings("SELECT CAST(parent_id AS TEXT) FROM child ORDER BY id") == ["1", "99"])
    }

    @Test("a tampered object is refused and no target is created")
    func tamperedObject() throws {
        let fixture = try JobFixture("job-restore-tampered")
        defer { fixture.remove() }
        let entry = try fixture.backup()
        let object = fixture.store.root + "/" + entry.info.key
        // Same length, still valid SQL: only the recorded checksum can tell.
        let tampered = fixture.dir.file("tampered.sql.gz")
        let edit = try ProcessRunner.shell("gunzip -c '\(object)' | sed 's|AC/DC|AC/DX|' | gzip > '\(tampered)'")
        #expect(edit.status == 0, "\(edit.stderrText)")
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: tampered)))
        try fixture.store.put(key: entry.info.key, bytes: bytes, metadata: entry.info.metadata, contentType: "application/gzip")
        let target = fixture.dir.file("r.db")
        expectError({ _ = try RestoreJob.restore(entry, from: fixture.destination, into: target, force: false) },
                    where: { error in
                        guard let error = error as? BackupError, error.code == .verificationFailed else { return false }
                        return error.problems.contains { $0.contains("checksum") }
                    })
        #expect(!FileManager.default.fileExists(atPath: target))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: fixture.dir.path).filter { $0.contains(".restore-") }
        #expect(leftovers.isEmpty)
    }

    @Test("a foreign script restores only when allowed, with a note saying what was skipped")
    func foreignScript() throws {
        let fixture = try JobFixture("job-restore-foreign")
        defer { fixture.remove() }
        let key = "backups/database-2024-01-15-02-00-00.sql.gz"
        let dumped = try ProcessRunner.shell("sqlite3 '\(fixture.database)' .dump | gzip > '\(fixture.dir.file("foreign.sql.gz"))'")
        #expect(dumped.status == 0, "\(dumped.stderrText)")
        try fixture.store.put(key: key, bytes: Array(try Data(contentsOf: URL(fileURLWithPath: fixture.dir.file("foreign.sql.gz")))),
                              metadata: [:], contentType: "application/gzip")
        let entry = try fixture.destination.resolveKey("database-2024-01-15-02-00-00.sql.gz")
        let target = fixture.dir.file("r.db")
        expectError({ _ = try RestoreJob.restore(entry, from: fixture.destination, into: target, force: false) },
                    where: { ($0 as? DumpError)?.code == .notBackstream })
        #expect(!FileManager.default.fileExists(atPath: target))
        let report = try RestoreJob.restore(entry, from: fixture.destination, into: target, force: false, allowForeign: true)
        #expect(report.foreign && report.ok, "\(report.problems)")
        #expect(report.notes.contains { $0.contains("not a Backstream backup") })
        #expect(try DatabaseComparison.differences(fixture.database, target).isEmpty)
    }

    @Test("restoreSQL streams the exact SQL text the backup recorded")
    func restoreSQL() throws {
        let fixture = try JobFixture("job-restore-sql")
        defer { fixture.remove() }
        let entry = try fixture.backup()
        let sink = CollectingSink()
        let report = try RestoreJob.restoreSQL(entry, from: fixture.destination, into: sink)
        #expect(sink.finished && !sink.aborted)
        #expect(report.ok && report.complete, "\(report.problems)")
        #expect(String(sink.bytes.count) == entry.info.metadata[BackupMetadata.sqlBytes])
        #expect(String(report.actualCRC32) == entry.info.metadata[BackupMetadata.contentCRC32])
        #expect(sink.bytes.starts(with: Array(DumpFormat.headerFirstLine.utf8)))
        let script = fixture.dir.file("script.sql")
        try Data(sink.bytes).write(to: URL(fileURLWithPath: script))
        #expect(try ProcessRunner.run(["sqlite3", "-bail", fixture.dir.file("r.db")], stdinFile: script).status == 0)
        #expect(try DatabaseComparison.differences(fixture.database, fixture.dir.file("r.db")).isEmpty)
    }

    @Test("moto: a backup on S3 restores to a database equal to the source")
    func s3Restore() throws {
        let fixture = try JobFixture("job-restore-s3")
        defer { fixture.remove() }
        let moto = try motoDestination("job-restore")
        let entry = try fixture.backup(to: moto.destination)
        let latest = try moto.destination.resolveKey("latest")
        #expect(latest.info.key == entry.info.key)
        let report = try RestoreJob.restore(latest, from: moto.destination, into: fixture.dir.file("r.db"), force: false)
        #expect(report.ok && report.expectedCRC32 == report.actualCRC32, "\(report.problems)")
        #expect(try DatabaseComparison.differences(fixture.database, fixture.dir.file("r.db")).isEmpty)
    }
}
