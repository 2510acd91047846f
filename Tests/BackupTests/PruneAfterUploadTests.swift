import Backup
import ChunkIO
import Foundation
import ObjectStore
import Testing
import TestSupport

/// A real folder store whose deletes fail, as a bucket policy without s3:DeleteObject does.
struct NoDeleteStore: WrappedDirectoryStore {
    let base: DirectoryStore
    struct Refused: Error, CustomStringConvertible { var description: String { "AccessDenied: delete is not allowed" } }
    func delete(keys: [String]) throws { throw Refused() }
}

@Suite("prune after upload")
struct PruneAfterUploadTests {
    @Test("a prune error after a stored backup is a warning: the backup succeeds and the log records it")
    func pruneErrorIsAWarning() throws {
        let dir = try TemporaryDirectory("prune-warning")
        defer { dir.remove() }
        let database = dir.file("app.db")
        try TestDatabase(database).execute("""
            CREATE TABLE t(v); INSERT INTO t VALUES (1);
            CREATE TABLE activity_log(id INTEGER PRIMARY KEY AUTOINCREMENT, user_id TEXT, action TEXT NOT NULL,
                                      details TEXT, created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP);
            """)
        let base = DirectoryStore(root: dir.file("store"))
        try base.put(key: "backups/database-2020-01-01-00-00-00.sql.gz", bytes: Array("old".utf8), metadata: [:], contentType: "application/gzip")
        var options = BackupJob.Options()
        options.threads = 1
        options.retention = RetentionPolicy(retentionDays: 1, keepLast: 1)
        final class Warnings: @unchecked Sendable { var lines: [String] = [] }
        let warnings = Warnings()
        options.warn = { warnings.lines.append($0) }
        let result = try BackupJob.run(databasePath: database, destination: BackupDestination(store: NoDeleteStore(base: base), prefix: "backups/"),
                                       options: options)
        #expect(try base.head(key: result.key) != nil)
        #expect(result.pruneError?.contains("delete is not allowed") == true)
        #expect(result.json.rendered.contains("\"prune_error\""))
        #expect(warnings.lines.contains { $0.contains("pruning old backups failed") }, "\(warnings.lines)")
        #expect(try TestDatabase(database).strings("SELECT action FROM activity_log ORDER BY id") == ["database_backup_created"])
    }
}
