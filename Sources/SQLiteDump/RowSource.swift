import Support

/// The storage class of one value, as SQLite defines them.
package enum SQLValueType: Sendable {
    case null, integer, real, text, blob
}

/// The rows of one table, one at a time, as typed values. Text and blob bytes stay valid until
/// the next `next()`: the writer copies them straight into its output buffer, with no value
/// object per cell.
package protocol RowCursor {
    /// Moves to the next row; false after the last one.
    mutating func next() throws -> Bool
    var columnCount: Int32 { get }
    func type(_ column: Int32) -> SQLValueType
    func int64(_ column: Int32) -> Int64
    func double(_ column: Int32) -> Double
    /// UTF-8 bytes of a text value.
    func text(_ column: Int32) -> UnsafeRawBufferPointer
    func blob(_ column: Int32) -> UnsafeRawBufferPointer
    /// Byte length of a text or blob value, without copying or converting it.
    func byteCount(_ column: Int32) -> Int
}

/// SQLite's internal tables a dump copies after the data.
package enum InternalTable: Sendable {
    /// `sqlite_sequence`, columns (name, seq).
    case sequence
    /// `sqlite_stat1`, columns (tbl, idx, stat).
    case statistics
}

/// Where a dump's content comes from: the schema in restore order, then each table's rows.
/// The script writer knows nothing else about the database, so a new source (a remote D1
/// database, say) implements this protocol and no writer code changes.
///
/// Everything a source returns must come from one consistent state of the database.
package protocol RowSource: AnyObject {
    associatedtype Rows: RowCursor

    /// The header's `-- source:` name when the options give none.
    var name: String { get }
    /// The version of SQLite that holds the data, for the header's `-- sqlite:` line.
    var engineVersion: String { get }
    /// The objects in the order a restore creates them, with row counts. Called once, first.
    func schema(for dialect: Dialect) throws -> SchemaPlan
    /// The rows of `table`, one value per `table.selectedColumns` (the rowid first when selected).
    func rows(of table: TableSpec) throws -> Rows
    func rows(of table: InternalTable) throws -> Rows
    /// The source's own foreign_key_check and integrity_check, after the data; nil when the
    /// source cannot run them.
    func sourceChecks(cancellation: Cancellation?) throws -> SourceChecks?
    /// A dump failed: stop any background work now.
    func stop()
    /// Facts about the snapshot for the header, written as `-- key: value` after the table
    /// counts (a remote database's state marker, say). Empty for a local file.
    var headerNotes: [(key: String, value: String)] { get }
    /// Facts known once the data is read, for the backup's object metadata.
    var finalNotes: [String: String] { get }
}

extension RowSource {
    package var headerNotes: [(key: String, value: String)] { [] }
    package var finalNotes: [String: String] { [:] }
}
