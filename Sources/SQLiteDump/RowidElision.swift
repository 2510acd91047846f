/// Decides, row by row, whether a table's hidden rowid can be left out of its INSERT: SQLite
/// gives a row inserted without one the largest rowid so far plus one (1 in an empty table), so
/// a row carrying exactly that rowid restores identically without it. Rows after a gap, out of
/// order or below 1 keep theirs, which keeps every dump exact whatever the rowids are.
struct RowidElision {
    private var largest: Int64?
    private let listsColumns: Bool

    /// Only ordinary tables whose dump writes the rowid; FTS tables choose rowids their own way.
    init?(_ table: TableSpec) {
        guard table.insertsRowid, table.selectsRowid, case .table = table.kind else { return nil }
        listsColumns = table.omitsColumns
    }

    /// The column list of an INSERT without the rowid (`selected[0]` is the rowid): none, as
    /// sqlite3 writes it, unless generated columns must be left out.
    func columnList(_ selected: [String]) -> String {
        listsColumns ? "(" + selected.dropFirst().joined(separator: ",") + ")" : ""
    }

    /// Whether the row with `rowid` may be written without it; records the row either way.
    mutating func elides(_ rowid: Int64) -> Bool {
        let expected: Int64? = switch largest {
        case nil: 1
        case let largest? where largest >= 0 && largest < Int64.max: largest + 1
        default: nil
        }
        largest = max(largest ?? rowid, rowid)
        return rowid == expected
    }
}
