import CSQLite
import SQLiteAccess

/// A prepared SELECT as a `RowCursor`: the local snapshot's rows, read in place.
package struct StatementRows: RowCursor {
    let statement: Statement

    @inline(__always) package mutating func next() throws -> Bool { try statement.step() }
    package var columnCount: Int32 { statement.columnCount }

    @inline(__always) package func type(_ column: Int32) -> SQLValueType {
        switch statement.type(column) {
        case SQLITE_INTEGER: .integer
        case SQLITE_FLOAT: .real
        case SQLITE_TEXT: .text
        case SQLITE_BLOB: .blob
        default: .null
        }
    }

    @inline(__always) package func int64(_ column: Int32) -> Int64 { statement.int64(column) }
    @inline(__always) package func double(_ column: Int32) -> Double { statement.double(column) }
    @inline(__always) package func text(_ column: Int32) -> UnsafeRawBufferPointer { statement.text(column) }
    @inline(__always) package func blob(_ column: Int32) -> UnsafeRawBufferPointer { statement.blob(column) }
    @inline(__always) package func byteCount(_ column: Int32) -> Int { statement.byteCount(column) }
}
