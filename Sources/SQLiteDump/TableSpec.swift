import SQLiteAccess

/// Everything the row loop needs to know about one table, read once from the schema.
package struct TableSpec {
    package enum Kind: Equatable {
        case table
        /// A virtual table whose rows are re-inserted through the module (FTS3/4/5, R-Tree).
        case virtualReadable(module: String)
        /// FTS with `content=<table>`: rebuilt from its content table after the data.
        case virtualExternalContent
        /// A module whose content cannot be read back (contentless FTS, unknown modules).
        case virtualSchemaOnly(module: String)
    }

    package let name: String
    package let sql: String
    package let kind: Kind
    package let withoutRowid: Bool
    /// Columns that are selected and inserted (generated and hidden columns excluded).
    package let columns: [String]
    /// The rowid is selected as column 0 when it must be written or addressed.
    package let selectsRowid: Bool
    /// The rowid is written in the INSERT (no INTEGER PRIMARY KEY alias keeps it otherwise).
    package let insertsRowid: Bool
    /// A name that reaches the rowid (rowid, _rowid_ or oid, whichever no column shadows).
    package let rowidName: String?
    package let primaryKey: [String]
    /// Some columns are not inserted (generated, hidden), so INSERT must name its columns.
    package let omitsColumns: Bool
    package var dependencies: [String]
    package var rowCount: Int64 = 0

    package init(name: String, sql: String, kind: Kind, withoutRowid: Bool, columns: [String], selectsRowid: Bool,
                 insertsRowid: Bool, rowidName: String?, primaryKey: [String], omitsColumns: Bool,
                 dependencies: [String], rowCount: Int64 = 0) {
        self.name = name
        self.sql = sql
        self.kind = kind
        self.withoutRowid = withoutRowid
        self.columns = columns
        self.selectsRowid = selectsRowid
        self.insertsRowid = insertsRowid
        self.rowidName = rowidName
        self.primaryKey = primaryKey
        self.omitsColumns = omitsColumns
        self.dependencies = dependencies
        self.rowCount = rowCount
    }

    /// The quoted columns a row source selects, in the order the writer reads them: the rowid
    /// first when `selectsRowid`. Empty when the table has nothing to read.
    package var selectedColumns: [String] {
        var selected = columns.map(SQLIdentifier.quote)
        if selectsRowid, let rowidName { selected.insert(rowidName, at: 0) }
        return selected
    }

    package var hasData: Bool {
        switch kind {
        case .table, .virtualReadable: true
        case .virtualExternalContent, .virtualSchemaOnly: false
        }
    }
}
