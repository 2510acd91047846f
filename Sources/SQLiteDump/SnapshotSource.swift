import Foundation
import SQLiteAccess
import Support

/// The local database file as a `RowSource`: one read transaction is one consistent snapshot,
/// so other connections may keep writing (WAL) or wait (rollback journal) without the script
/// ever mixing two states. The source checks run on their own connections in that snapshot.
package final class SnapshotSource: RowSource {
    private let connection: Connection
    private let databasePath: String
    private let options: DumpOptions
    private var checks: SourceCheckRunner?

    /// Opens `databasePath` read-only and starts the snapshot.
    package init(databasePath: String, options: DumpOptions) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: databasePath, isDirectory: &isDirectory) else {
            throw DumpError(.fileNotFound, "database file \(databasePath) does not exist; check the path")
        }
        if isDirectory.boolValue {
            throw DumpError(.cannotOpen, "\(databasePath) is a folder; give the path of the database file")
        }
        self.databasePath = databasePath
        self.options = options
        connection = try Connection(path: databasePath, readOnly: true, busyTimeoutMilliseconds: options.busyTimeoutMilliseconds)
        // A dump reads each b-tree once, front to back: a small page cache loses nothing.
        try connection.execute("PRAGMA cache_size=-1024")
        let wal = try connection.prepare("PRAGMA journal_mode")
        let isWAL = try wal.step() && wal.string(0).lowercased() == "wal"
        // In WAL mode the checkers can share the dump's snapshot only while no writer can commit:
        // a gate connection holds the write lock for the moment the readers start. A database
        // this process may not write (or a writer holding the lock) leaves the checks to the
        // dump's own connection, after the data.
        var gate: Connection?
        if isWAL && options.sourceChecks {
            gate = try? Connection(path: databasePath, readOnly: false, busyTimeoutMilliseconds: 200)
            do { try gate?.execute("BEGIN IMMEDIATE") } catch { gate = nil }
        }
        try connection.execute("BEGIN")
        // The first read takes the shared lock (or WAL read mark) that pins the snapshot.
        _ = try connection.scalarInt("SELECT count(*) FROM main.sqlite_schema")
        if options.sourceChecks && (!isWAL || gate != nil) {
            checks = try? SourceCheckRunner(databasePath: databasePath, busyTimeoutMilliseconds: options.busyTimeoutMilliseconds,
                                            cacheKiB: options.sourceCheckCacheKiB)
        }
        try? gate?.execute("ROLLBACK")
    }

    deinit {
        checks?.stop()
        try? connection.execute("COMMIT")
    }

    package var name: String { (databasePath as NSString).lastPathComponent }
    package var engineVersion: String { connection.sqliteVersion }

    package func schema(for dialect: Dialect) throws -> SchemaPlan {
        let plan = try SchemaPlan(connection: connection, dialect: dialect)
        checks?.start()
        return plan
    }

    package func rows(of table: TableSpec) throws -> StatementRows {
        let list = table.selectedColumns.joined(separator: ",")
        return StatementRows(statement: try connection.prepare("SELECT \(list) FROM main.\(SQLIdentifier.quote(table.name))"))
    }

    package func rows(of table: InternalTable) throws -> StatementRows {
        switch table {
        case .sequence: StatementRows(statement: try connection.prepare("SELECT name, seq FROM main.sqlite_sequence"))
        case .statistics: StatementRows(statement: try connection.prepare("SELECT tbl, idx, stat FROM main.sqlite_stat1"))
        }
    }

    /// From the checking threads, or run here after the data.
    package func sourceChecks(cancellation: Cancellation?) throws -> SourceChecks? {
        guard options.sourceChecks else { return nil }
        if let checks { return try checks.results(cancellation: cancellation) }
        let (violations, digest) = try SourceChecks.foreignKeys(connection)
        return SourceChecks(foreignKeyViolations: violations, foreignKeyDigest: digest,
                            integrityOK: try SourceChecks.integrity(connection) == ["ok"])
    }

    package func stop() { checks?.stop() }
}
