import CSQLite

/// A prepared statement. Column accessors are thin so the row loop pays for nothing extra.
package final class Statement {
    package let handle: OpaquePointer
    package unowned let connection: Connection

    package init(_ handle: OpaquePointer, connection: Connection) {
        self.handle = handle
        self.connection = connection
    }

    deinit { sqlite3_finalize(handle) }

    /// Advances to the next row; false when done.
    @inline(__always)
    package func step() throws(SQLiteError) -> Bool {
        let rc = sqlite3_step(handle)
        if rc == SQLITE_ROW { return true }
        if rc == SQLITE_DONE { return false }
        throw connection.error(rc, context: String(cString: sqlite3_sql(handle)))
    }

    package func reset() { sqlite3_reset(handle) }

    package var columnCount: Int32 { sqlite3_column_count(handle) }
    package var parameterCount: Int32 { sqlite3_bind_parameter_count(handle) }
    @inline(__always) package func type(_ i: Int32) -> Int32 { sqlite3_column_type(handle, i) }
    @inline(__always) package func int64(_ i: Int32) -> Int64 { sqlite3_column_int64(handle, i) }
    @inline(__always) package func double(_ i: Int32) -> Double { sqlite3_column_double(handle, i) }

    /// Raw UTF-8 bytes of a TEXT column (valid until the next step).
    @inline(__always) package func text(_ i: Int32) -> UnsafeRawBufferPointer {
        let p = sqlite3_column_text(handle, i)
        let n = Int(sqlite3_column_bytes(handle, i))
        return UnsafeRawBufferPointer(start: p.map(UnsafeRawPointer.init), count: p == nil ? 0 : n)
    }

    /// Raw bytes of a BLOB column (valid until the next step).
    @inline(__always) package func blob(_ i: Int32) -> UnsafeRawBufferPointer {
        let p = sqlite3_column_blob(handle, i)
        let n = Int(sqlite3_column_bytes(handle, i))
        return UnsafeRawBufferPointer(start: p, count: p == nil ? 0 : n)
    }

    /// Byte length of a TEXT or BLOB column without converting or copying it.
    @inline(__always) package func byteCount(_ i: Int32) -> Int { Int(sqlite3_column_bytes(handle, i)) }

    package func string(_ i: Int32) -> String {
        guard let p = sqlite3_column_text(handle, i) else { return "" }
        return String(cString: p)
    }

    package func bind(_ i: Int32, _ value: String) {
        sqlite3_bind_text(handle, i, value, -1, backstream_sqlite_transient())
    }

    package func bind(_ i: Int32, _ value: Int64) {
        sqlite3_bind_int64(handle, i, value)
    }
}
