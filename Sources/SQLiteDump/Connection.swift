import CSQLite

/// A thin SQLite handle: just what the dump and the loader need, with errors mapped to
/// `DumpError` messages that name the database file.
public final class Connection {
    let handle: OpaquePointer
    let path: String

    /// Opens `path`. Read-only connections never create or modify the file; `noFollow` refuses
    /// a path whose last component is a symbolic link.
    public init(path: String, readOnly: Bool, busyTimeoutMilliseconds: Int32 = 5000, noFollow: Bool = false) throws(DumpError) {
        var db: OpaquePointer?
        var flags = (readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)) | SQLITE_OPEN_NOMUTEX
        if noFollow { flags |= SQLITE_OPEN_NOFOLLOW }
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let detail = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(db)
            throw DumpError(.cannotOpen, "cannot open database \(path): \(detail); check the path and its permissions")
        }
        handle = db
        self.path = path
        sqlite3_busy_timeout(db, busyTimeoutMilliseconds)
        sqlite3_extended_result_codes(db, 1)
    }

    deinit { sqlite3_close_v2(handle) }

    /// Closes the door on everything a hostile schema or script could reach beyond this file:
    /// defensive mode (no writes to sqlite_schema, shadow tables or raw pages), untrusted schema
    /// (functions in views and triggers must be innocuous), no extension loading, no ATTACH.
    public func harden() throws(DumpError) {
        for (option, on) in [(SQLITE_DBCONFIG_DEFENSIVE, 1), (SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0),
                             (SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0), (SQLITE_DBCONFIG_ENABLE_FTS3_TOKENIZER, 0)] {
            let rc = backstream_sqlite_db_config_flag(handle, option, Int32(on))
            if rc != SQLITE_OK { throw error(rc, context: "sqlite3_db_config(\(option))") }
        }
        sqlite3_limit(handle, SQLITE_LIMIT_ATTACHED, 0)
    }

    /// Makes a running statement on this connection stop with SQLITE_INTERRUPT; any thread may call it.
    public func interrupt() { sqlite3_interrupt(handle) }

    public func prepare(_ sql: String) throws(DumpError) -> Statement {
        var stmt: OpaquePointer?
        let rc = sqlite3_prepare_v2(handle, sql, -1, &stmt, nil)
        guard rc == SQLITE_OK, let stmt else { throw error(rc, context: sql) }
        return Statement(stmt, connection: self)
    }

    public func execute(_ sql: String) throws(DumpError) {
        let rc = sqlite3_exec(handle, sql, nil, nil, nil)
        if rc != SQLITE_OK { throw error(rc, context: sql) }
    }

    /// The first column of the first row as an integer (0 when there is no row).
    public func scalarInt(_ sql: String) throws(DumpError) -> Int64 {
        let stmt = try prepare(sql)
        return try stmt.step() ? stmt.int64(0) : 0
    }

    public var sqliteVersion: String { String(cString: sqlite3_libversion()) }

    /// Maps a SQLite result code to a message a user can act on.
    func error(_ rc: Int32, context: String) -> DumpError {
        let detail = String(cString: sqlite3_errmsg(handle))
        switch rc & 0xff {
        case SQLITE_NOTADB:
            return DumpError(.notADatabase, "\(path) is not a SQLite database (\(detail)); check that the path names the database file itself")
        case SQLITE_CORRUPT:
            return DumpError(.corrupt, "database \(path) is corrupt (\(detail)); run `sqlite3 \(path) 'PRAGMA integrity_check'` and restore from a good backup")
        case SQLITE_BUSY, SQLITE_LOCKED:
            return DumpError(.busy, "database \(path) stayed locked by another connection (\(detail)); retry when its writer has finished, or raise the busy timeout")
        case SQLITE_INTERRUPT:
            return DumpError(.cancelled, "interrupted while reading \(path)")
        default:
            let snippet = context.count > 120 ? String(context.prefix(120)) + "…" : context
            return DumpError(.sqlite, "SQLite error on \(path): \(detail) (while running: \(snippet))")
        }
    }
}
