import Backup
import ChunkIO
import Foundation
import ObjectStore
import Testing
import TestSupport

/// The one place error assertions match on a type or case: the error types are being reshaped,
/// so a change of shape is adapted here and in the few `where:` closures, nowhere else.
func expectError(sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void,
                 where matches: (any Error) -> Bool) {
    do {
        try body()
        Issue.record("expected an error, got none", sourceLocation: sourceLocation)
    } catch {
        #expect(matches(rootCause(error)), "unexpected error: \(error)", sourceLocation: sourceLocation)
    }
}

/// The error under the stage names a pipeline adds, which say only where it broke.
func rootCause(_ error: any Error) -> any Error {
    var error = error
    while let staged = error as? StageError { error = staged.underlying }
    return error
}

/// A private folder holding a copy of chinook and a folder store with the guide's prefix.
struct JobFixture {
    let dir: TemporaryDirectory
    let database: String
    let store: DirectoryStore
    var destination: BackupDestination { BackupDestination(store: store, prefix: BackupDestination.defaultPrefix) }

    init(_ label: String) throws {
        dir = try TemporaryDirectory(label)
        database = try Fixtures.copy(Fixtures.chinook, to: dir, as: "source.db")
        store = DirectoryStore(root: dir.file("store"))
    }

    /// Adds the guide's `activity_log` table to the source copy.
    func addActivityLog() throws {
        try TestDatabase(database).execute("""
            CREATE TABLE activity_log(id INTEGER PRIMARY KEY AUTOINCREMENT, user_id TEXT, action TEXT NOT NULL,
                                      details TEXT, created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP);
            """)
    }

    /// A backup of the source copy, single-threaded so tests sharing two cores stay predictable.
    func backup(to destination: BackupDestination? = nil, _ configure: (inout BackupJob.Options) -> Void = { _ in }) throws -> BackupEntry {
        var options = JobFixture.options()
        configure(&options)
        let result = try BackupJob.run(databasePath: database, destination: destination ?? self.destination, options: options)
        return try (destination ?? self.destination).resolveKey(result.key)
    }

    static func options() -> BackupJob.Options {
        var options = BackupJob.Options()
        options.threads = 1
        options.prune = false
        return options
    }

    /// The rows of chinook's tables, counted by the independent test handle.
    func rowCount() throws -> Int64 {
        let db = try TestDatabase(database, readOnly: true)
        let tables = try db.strings("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        return try tables.reduce(0) { $0 + (try db.scalarInt("SELECT count(*) FROM \"\($1)\"")) }
    }

    func remove() { dir.remove() }
}

/// A fresh bucket on the moto_server of scripts/test.sh; throws (never skips) without one,
/// as every S3 test of the package does.
func motoDestination(_ label: String) throws -> (destination: BackupDestination, server: S3TestServer, bucket: String) {
    let server = try S3TestServer()
    let bucket = try server.makeBucket(label)
    let configuration = S3Configuration(endpoint: server.endpoint, region: server.region, accessKeyId: server.accessKey,
                                        secretAccessKey: server.secretKey, connectTimeout: 5, stallTimeout: 20)
    let store = try S3Store(bucket: bucket, configuration: configuration)
    return (BackupDestination(store: store, prefix: BackupDestination.defaultPrefix), server, bucket)
}

/// Messages a job passes to its `warn` callback.
final class Warnings: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []
    var lines: [String] { lock.withLock { stored } }
    func add(_ line: String) { lock.withLock { stored.append(line) } }
}
