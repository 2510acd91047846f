import CSQLite

/// A thin SQLite handle: just what the dump, the loader and the jobs need, with errors mapped
/// to `SQLiteError` sentences that name the database file.
package final class Connection {
    package let handle: OpaquePointer
    package let path: String

    /// Opens `path`. Read-only connections never create or modify the file, nor do read-write
    /// ones with `create` false; `noFollow` refuses
    /// a path whose last component is a symbolic link.
    package init(path: String, readOnly: Bool, busyTimeoutMilliseconds: Int32 = 5000, noFollow: Bool = false, create: Bool = true) throws(SQLiteError) {
        var db: OpaquePointer?
        var flags = (readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0))) | SQLITE_OPEN_NOMUTEX
        if noFollow { flags |= SQLITE_OPEN_NOFOLLOW }
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let detail = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(db)
            throw SQLiteError(.cannotOpen, resultCode: rc, path: path,
                              message: "cannot open database \(path): \(detail); check the path and its permissions")
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
    package func harden() throws(SQLiteError) {
        for (option, on) in [(SQLITE_DBCONFIG_DEFENSIVE, 1), (SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0),
                             (SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0), (SQLITE_DBCONFIG_ENABLE_FTS3_TOKENIZER, 0)] {
            let rc = backstream_sqlite_db_config_flag(handle, option, Int32(on))
            if rc != SQLITE_OK { throw error(rc, context: "sqlite3_db_config(\(option))") }
        }
        sqlite3_limit(handle, SQLITE_LIMIT_ATTACHED, 0)
    }

    /// Makes a running statement on this connection stop with SQLITE_INTERRUPT; any thread may call it.
    package func interrupt() { sqlite3_interrupt(handle) }

    package func prepare(_ sql: String) throws(SQLiteError) -> Statement {
        var stmt: OpaquePointer?
        let rc = sqlite3_prepare_v2(handle, sql, -1, &stmt, nil)
        guard rc == SQLITE_OK, let stmt else { throw error(rc, context: sql) }
        return Statement(stmt, connection: self)
    }

    package func execute(_ sql: String) throws(SQLiteError) {
        let rc = sqlite3_exec(handle, sql, nil, nil, nil)
        if rc != SQLITE_OK { throw error(rc, context: sql) }
    }

    /// The first column of the first row as an integer (0 when there is no row).
    package func scalarInt(_ sql: String) throws(SQLiteError) -> Int64 {
        let stmt = try prepare(sql)
        return try stmt.step() ? stmt.int64(0) : 0
    }

    package var sqliteVersion: String { String(cString: sqlite3_libversion()) }

    /// The error for result code `rc` of a call on this connection.
    package func error(_ rc: Int32, context: String) -> SQLiteError {
        SQLiteError.from(rc, detail: String(cString: sqlite3_errmsg(handle)), path: path, context: context)
    }
}
