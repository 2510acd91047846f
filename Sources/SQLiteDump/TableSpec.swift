/// Everything the row loop needs to know about one table, read once from the schema.
struct TableSpec {
    enum Kind: Equatable {
        case table
        /// A virtual table whose rows are re-inserted through the module (FTS3/4/5, R-Tree).
        case virtualReadable(module: String)
        /// FTS with `content=<table>`: rebuilt from its content table after the data.
        case virtualExternalContent
        /// A module whose content cannot be read back (contentless FTS, unknown modules).
        case virtualSchemaOnly(module: String)
    }

    let name: String
    let sql: String
    let kind: Kind
    let withoutRowid: Bool
    /// Columns that are selected and inserted (generated and hidden columns excluded).
    let columns: [String]
    /// The rowid is selected as column 0 when it must be written or addressed.
    let selectsRowid: Bool
    /// The rowid is written in the INSERT (no INTEGER PRIMARY KEY alias keeps it otherwise).
    let insertsRowid: Bool
    /// A name that reaches the rowid (rowid, _rowid_ or oid, whichever no column shadows).
    let rowidName: String?
    let primaryKey: [String]
    /// Some columns are not inserted (generated, hidden), so INSERT must name its columns.
    let omitsColumns: Bool
    var dependencies: [String]
    var rowCount: Int64 = 0

    var hasData: Bool {
        switch kind {
        case .table, .virtualReadable: true
        case .virtualExternalContent, .virtualSchemaOnly: false
        }
    }
}
