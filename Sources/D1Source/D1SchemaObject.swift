import SQLiteAccess
import SQLiteDump

/// One row of D1's `sqlite_schema`, and the plan built from all of them.
struct D1SchemaObject {
    var type: String
    var name: String
    var table: String
    var sql: String

    /// Replays the tables into an in-memory database so the local engine's own analysis
    /// (columns, hidden and generated columns, rowid aliases, virtual modules, foreign-key order)
    /// applies unchanged; indexes, views and triggers are taken as D1 wrote them.
    static func plan(_ objects: [D1SchemaObject], dialect: Dialect) throws -> SchemaPlan {
        let local: Connection
        do {
            local = try Connection(path: ":memory:", readOnly: false)
            // Virtual tables first: they create their own shadow tables, which are then skipped.
            let tables = objects.filter { $0.type == "table" && !$0.sql.isEmpty && !isInternal($0.name) }
            let virtual = tables.filter { SchemaPlan.isVirtual($0.sql) }
            for object in virtual + tables.filter({ !SchemaPlan.isVirtual($0.sql) }) {
                let exists = try local.scalarInt("SELECT count(*) FROM sqlite_schema WHERE name = \(SQLIdentifier.literal(object.name)) COLLATE NOCASE")
                if exists == 0 { try local.execute(object.sql) }
            }
        } catch {
            throw D1Error(.badAnswer, "cannot analyse the D1 schema locally: \(error)")
        }
        var plan = try SchemaPlan(connection: local, dialect: dialect)
        // Objects that belong to a table the plan does not copy (D1's own, shadow tables).
        let copied = Set(plan.tables.map { $0.name.lowercased() })
        let views = Set(objects.filter { $0.type == "view" }.map { $0.name.lowercased() })
        let owned = { (object: D1SchemaObject) in copied.contains(object.table.lowercased()) || views.contains(object.table.lowercased()) }
        plan.indexes = objects.filter { $0.type == "index" && !$0.sql.isEmpty && owned($0) }.map(\.sql)
        plan.views = objects.filter { $0.type == "view" }.map(\.sql)
        plan.triggers = objects.filter { $0.type == "trigger" && owned($0) }.map(\.sql)
        plan.hasSequence = false
        plan.hasStat1 = dialect == .sqlite && objects.contains { $0.name == "sqlite_stat1" }
        plan.userVersion = 0
        plan.applicationID = 0
        return plan
    }

    /// SQLite's and D1's own tables: never replayed, never copied as data.
    static func isInternal(_ name: String) -> Bool {
        let lower = name.lowercased()
        return lower.hasPrefix("sqlite_") || lower.hasPrefix("_cf_")
    }
}
