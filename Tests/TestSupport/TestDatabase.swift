import CSQLite
import Foundation

/// A value exactly as SQLite stores it: storage class plus raw bytes (REAL by bit pattern, so
/// -0.0 and 0.0 differ and every double is compared exactly).
package enum StoredValue: Hashable, Sendable, CustomStringConvertible {
    case null
    case integer(Int64)
    case real(UInt64)
    case text([UInt8])
    case blob([UInt8])

    package var description: String {
        switch self {
        case .null: "NULL"
        case .integer(let v): "INTEGER(\(v))"
        case .real(let bits): "REAL(\(Double(bitPattern: bits)))"
        case .text(let b): "TEXT(\(String(decoding: b, as: UTF8.self).debugDescription), \(b.count) bytes)"
        case .blob(let b): "BLOB(\(b.count) bytes)"
        }
    }
}

package struct TestDatabaseError: Error, CustomStringConvertible {
    package let description: String
    package init(description: String) { self.description = description }
}

/// A minimal SQLite handle for tests: independent of the code under test on purpose.
package final class TestDatabase {
    package let handle: OpaquePointer

    package init(_ path: String, readOnly: Bool = false) throws {
        var db: OpaquePointer?
        let flags = readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            sqlite3_close(db)
            throw TestDatabaseError(description: "cannot open \(path): rc=\(rc)")
        }
        handle = db
        sqlite3_busy_timeout(db, 5000)
    }

    deinit { sqlite3_close_v2(handle) }

    package func execute(_ sql: String) throws {
        var err: UnsafeMutablePointer<CChar>?
        if sqlite3_exec(handle, sql, nil, nil, &err) != SQLITE_OK {
            let message = err.map { String(cString: $0) } ?? "unknown"
            sqlite3_free(err)
            throw TestDatabaseError(description: "\(message) in: \(sql.prefix(200))")
        }
    }

    /// Runs `sql` with `bindings` and returns every row.
    package func query(_ sql: String, _ bindings: [StoredValue] = []) throws -> [[StoredValue]] {
        var stmt: OpaquePointer?
        guard sqlite3_prepare_v2(handle, sql, -1, &stmt, nil) == SQLITE_OK, let stmt else {
            throw TestDatabaseError(description: "prepare failed: \(String(cString: sqlite3_errmsg(handle))) in \(sql)")
        }
        defer { sqlite3_finalize(stmt) }
        for (i, value) in bindings.enumerated() {
            let index = Int32(i + 1)
            switch value {
            case .null: sqlite3_bind_null(stmt, index)
            case .integer(let v): sqlite3_bind_int64(stmt, index, v)
            case .real(let bits): sqlite3_bind_double(stmt, index, Double(bitPattern: bits))
            case .text(let b):
                let text = b + [0]
                text.withUnsafeBufferPointer { p in
                    p.withMemoryRebound(to: CChar.self) { _ = sqlite3_bind_text(stmt, index, $0.baseAddress, Int32(b.count), backstream_sqlite_transient()) }
                }
            case .blob(let b):
                let blob = b + [0]
                blob.withUnsafeBytes { _ = sqlite3_bind_blob(stmt, index, $0.baseAddress, Int32(b.count), backstream_sqlite_transient()) }
            }
        }
        var rows: [[StoredValue]] = []
        while true {
            let rc = sqlite3_step(stmt)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else {
                throw TestDatabaseError(description: "step failed: \(String(cString: sqlite3_errmsg(handle))) in \(sql)")
            }
            var row: [StoredValue] = []
            for c in 0..<sqlite3_column_count(stmt) {
                row.append(Self.value(stmt, c))
            }
            rows.append(row)
        }
        return rows
    }

    static func value(_ stmt: OpaquePointer, _ c: Int32) -> StoredValue {
        switch sqlite3_column_type(stmt, c) {
        case SQLITE_INTEGER: return .integer(sqlite3_column_int64(stmt, c))
        case SQLITE_FLOAT: return .real(sqlite3_column_double(stmt, c).bitPattern)
        case SQLITE_TEXT:
            let p = sqlite3_column_text(stmt, c)
            let n = Int(sqlite3_column_bytes(stmt, c))
            return .text(p.map { Array(UnsafeBufferPointer(start: $0, count: n)) } ?? [])
        case SQLITE_BLOB:
            let p = sqlite3_column_blob(stmt, c)
            let n = Int(sqlite3_column_bytes(stmt, c))
            return .blob(p.map { Array(UnsafeRawBufferPointer(start: $0, count: n)) } ?? [])
        default: return .null
        }
    }

    package func scalarInt(_ sql: String) throws -> Int64 {
        guard case .integer(let v)? = try query(sql).first?.first else {
            throw TestDatabaseError(description: "no integer from \(sql)")
        }
        return v
    }

    package func strings(_ sql: String) throws -> [String] {
        try query(sql).map { row in
            if case .text(let b)? = row.first { return String(decoding: b, as: UTF8.self) }
            return row.first?.description ?? ""
        }
    }
}
