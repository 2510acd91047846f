import Backup
import Foundation
import ObjectStore
import SQLiteDump
import Testing
import TestSupport

@Suite("verify job, in process")
struct VerifyJobTests {
    @Test("a good backup verifies: every table's rows match, integrity and checksum hold")
    func goodBackup() throws {
        let fixture = try JobFixture("job-verify")
        defer { fixture.remove() }
        let entry = try fixture.backup()
        let report = try VerifyJob.run(entry, from: fixture.destination)
        #expect(report.ok, "\(report.problems)")
        #expect(report.integrity == "ok" && report.complete)
        let source = try TestDatabase(fixture.database, readOnly: true)
        for table in report.tables {
            #expect(table.actual == (try source.scalarInt("SELECT count(*) FROM \"\(table.name)\"")), "\(table.name)")
        }
        #expect(report.tables.count == 11)
        #expect(String(report.actualCRC32) == entry.info.metadata[BackupMetadata.contentCRC32])
        let json = report.json.rendered
        #expect(json.contains(#""ok":true"#) && json.contains(#""integrity_check":"ok""#))
    }

    @Test("a backup cut short (no completion trailer) fails verification and names why")
    func truncatedBackup() throws {
        let fixture = try JobFixture("job-verify-cut")
        defer { fixture.remove() }
        let entry = try fixture.backup()
        let object = fixture.store.root + "/" + entry.info.key
        // Whole statements, but not the last lines (the trailer): what a cut at a line boundary leaves.
        let cut = fixture.dir.file("cut.sql.gz")
        let edit = try ProcessRunner.shell("gunzip -c '\(object)' | grep -v '^-- Backstream dump complete' | gzip > '\(cut)'")
        #expect(edit.status == 0, "\(edit.stderrText)")
        var metadata = entry.info.metadata
        metadata[BackupMetadata.contentCRC32] = nil
        try fixture.store.put(key: entry.info.key, bytes: Array(try Data(contentsOf: URL(fileURLWithPath: cut))),
                              metadata: metadata, contentType: "application/gzip")
        let report = try VerifyJob.run(try fixture.destination.resolveKey(entry.info.key), from: fixture.destination)
        #expect(!report.ok && !report.complete)
        #expect(report.problems.contains { $0.contains("no completion trailer") }, "\(report.problems)")
    }

    @Test("only Backstream's own scripts verify")
    func foreignScriptFails() throws {
        let fixture = try JobFixture("job-verify-foreign")
        defer { fixture.remove() }
        let key = "backups/database-2024-01-15-02-00-00.sql.gz"
        let gzip = try ProcessRunner.shell("printf 'CREATE TABLE t(v);\\n' | gzip > '\(fixture.dir.file("f.sql.gz"))'")
        #expect(gzip.status == 0)
        try fixture.store.put(key: key, bytes: Array(try Data(contentsOf: URL(fileURLWithPath: fixture.dir.file("f.sql.gz")))),
                              metadata: [:], contentType: "application/gzip")
        expectError({ _ = try VerifyJob.run(try fixture.destination.resolveKey(key), from: fixture.destination) },
                    where: { ($0 as? DumpError)?.code == .notBackstream })
    }

    @Test("moto: a backup on S3 verifies")
    func s3Verify() throws {
        let fixture = try JobFixture("job-verify-s3")
        defer { fixture.remove() }
        let moto = try motoDestination("job-verify")
        let entry = try fixture.backup(to: moto.destination)
        let report = try VerifyJob.run(entry, from: moto.destination)
        #expect(report.ok, "\(report.problems)")
        #expect(report.rows == (try fixture.rowCount()))
    }
}
