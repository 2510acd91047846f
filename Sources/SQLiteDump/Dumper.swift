import ChunkIO
import CSQLite
import Foundation

/// Writes one consistent snapshot of a SQLite database as a SQL script.
///
/// The whole dump runs inside one read transaction, so other connections may keep writing
/// (WAL) or wait (rollback journal) without the script ever mixing two states.
/// Used by one thread at a time; it may be created on one thread and run on another.
public final class Dumper: @unchecked Sendable {
    private let connection: Connection
    private let options: DumpOptions
    private let databasePath: String
    private var checks: SourceCheckRunner?

    /// Opens `databasePath` read-only and starts the snapshot.
    public init(databasePath: String, options: DumpOptions = DumpOptions()) throws(DumpError) {
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
            checks = try? SourceCheckRunner(databasePath: databasePath, busyTimeoutMilliseconds: options.busyTimeoutMilliseconds)
        }
        try? gate?.execute("ROLLBACK")
    }

    deinit {
        checks?.stop()
        try? connection.execute("COMMIT")
    }

    /// The source checks for the trailer: from the checking threads, or run here after the data.
    private func sourceChecks() throws(DumpError) -> SourceChecks? {
        guard options.sourceChecks else { return nil }
        if let checks { return try checks.results(cancellation: options.cancellation) }
        let (violations, digest) = try SourceChecks.foreignKeys(connection)
        return SourceChecks(foreignKeyViolations: violations, foreignKeyDigest: digest,
                            integrityOK: try SourceChecks.integrity(connection) == ["ok"])
    }

    /// Renders the script into `sink` and finishes it; on any error the sink is aborted.
    public func run(into sink: ChunkSink) throws -> DumpSummary {
        let started = DispatchTime.now().uptimeNanoseconds
        let pool = ChunkPool(size: max(2, options.bufferCount), chunkCapacity: max(64 * 1024, options.chunkSize))
        var writer: SQLWriter?
        do {
            let plan = try SchemaPlan(connection: connection, dialect: options.dialect)
            checks?.start()
            let out = try SQLWriter(sink: sink, pool: pool)
            out.cancellation = options.cancellation
            writer = out
            let timestamp = options.timestamp ?? Date()
            var script = ScriptWriter(writer: out, connection: connection, plan: plan, options: options,
                                      startedNanos: started)
            try script.header(sourceName: options.sourceName ?? (databasePath as NSString).lastPathComponent,
                              timestamp: timestamp)
            try script.body()
            try script.trailer(checks: try sourceChecks())
            try out.finish()
            writer = nil
            try sink.finish()
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            let dataTables = plan.tables.filter(\.hasData)
            return DumpSummary(tables: plan.tables.count, rows: script.rowsWritten,
                               rowsPerTable: dataTables.map { ($0.name, $0.rowCount) },
                               bytes: out.totalBytes, seconds: seconds, timestamp: timestamp,
                               dialect: options.dialect)
        } catch {
            checks?.stop()
            writer?.discard()
            pool.fail(error)
            sink.abort(error)
            throw error
        }
    }
}
