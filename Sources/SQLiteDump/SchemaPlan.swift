import CSQLite
import SQLiteAccess

/// The objects of one snapshot in the order a restore must create them: tables in foreign-key
/// dependency order (data follows each), then sequences, indexes, views, triggers, statistics.
package struct SchemaPlan {
    package var tables: [TableSpec] = []
    package var indexes: [String] = []
    package var views: [String] = []
    package var triggers: [String] = []
    package var hasSequence = false
    package var hasStat1 = false
    package var userVersion: Int64 = 0
    package var applicationID: Int64 = 0
    package var encoding = "UTF-8"

    /// An empty plan, for a source that fills it from elsewhere than a local connection.
    package init() {}

    static let readableModules: Set<String> = ["fts3", "fts4", "fts5", "rtree", "rtree_i32", "geopoly"]

    /// Reads the plan from a local connection (a D1 source replays the remote schema into an
    /// in-memory database to get the same table analysis).
    package init(connection db: Connection, dialect: Dialect) throws {
        userVersion = try db.scalarInt("PRAGMA user_version")
        applicationID = try db.scalarInt("PRAGMA application_id")
        let enc = try db.prepare("PRAGMA encoding")
        if try enc.step() { encoding = enc.string(0) }

        var kinds: [String: (type: String, withoutRowid: Bool)] = [:]
        let list = try db.prepare("SELECT name, type, wr FROM pragma_table_list WHERE schema = 'main'")
        while try list.step() {
            kinds[list.string(0)] = (list.string(1), list.int64(2) != 0)
        }

        var skipped: Set<String> = []
        var specs: [TableSpec] = []
        let objects = try db.prepare("SELECT type, name, tbl_name, coalesce(sql, '') FROM main.sqlite_schema ORDER BY rowid")
        while try objects.step() {
            let type = objects.string(0), name = objects.string(1), sql = objects.string(3)
            switch type {
            case "table":
                if name == "sqlite_sequence" { hasSequence = try db.scalarInt("SELECT count(*) FROM sqlite_sequence") > 0; continue }
                if name == "sqlite_stat1" { hasStat1 = dialect == .sqlite; continue }
                let kind = kinds[name]
                if name.hasPrefix("sqlite_") || kind?.type == "shadow" || (dialect == .d1 && name.hasPrefix("_cf_")) {
                    skipped.insert(name)
                    continue
                }
                specs.append(try Self.tableSpec(db, name: name, sql: sql, withoutRowid: kind?.withoutRowid ?? false, dialect: dialect))
            case "index":
                if !sql.isEmpty { indexes.append(sql) }
            case "view": views.append(sql)
            case "trigger": triggers.append(sql)
            default: continue
            }
        }
        // Indexes and triggers on skipped tables (shadow, internal) belong to their owners.
        let skippedTables = skipped
        let owned = try db.prepare("SELECT sql FROM main.sqlite_schema WHERE type IN ('index','trigger') AND sql IS NOT NULL AND tbl_name = ?1")
        var drop: Set<String> = []
        for name in skippedTables {
            owned.reset()
            owned.bind(1, name)
            while try owned.step() { drop.insert(owned.string(0)) }
        }
        indexes.removeAll { drop.contains($0) }
        triggers.removeAll { drop.contains($0) }

        for i in specs.indices where specs[i].hasData {
            specs[i].rowCount = try db.scalarInt("SELECT count(*) FROM main.\(SQLIdentifier.quote(specs[i].name))")
        }
        tables = Self.dependencyOrder(specs)
    }

    static func tableSpec(_ db: Connection, name: String, sql: String, withoutRowid: Bool, dialect: Dialect) throws -> TableSpec {
        let quotedLiteral = SQLIdentifier.literal(name)
        var columns: [String] = [], allNames: Set<String> = [], pk: [(Int64, String)] = [], total = 0
        let info = try db.prepare("SELECT name, hidden, pk FROM pragma_table_xinfo(\(quotedLiteral), 'main')")
        while try info.step() {
            let column = info.string(0)
            allNames.insert(column.lowercased())
            total += 1
            if info.int64(1) == 0 { columns.append(column) }
            if info.int64(2) > 0 { pk.append((info.int64(2), column)) }
        }
        let rowidName = ["rowid", "_rowid_", "oid"].first { !allNames.contains($0) }
        var dependencies: [String] = []
        let fks = try db.prepare("SELECT DISTINCT \"table\" FROM pragma_foreign_key_list(\(quotedLiteral), 'main')")
        while try fks.step() {
            let target = fks.string(0)
            if target != name { dependencies.append(target) }
        }

        let kind: TableSpec.Kind
        if let module = virtualModule(sql) {
            let options = sql.lowercased().replacingOccurrences(of: " ", with: "")
            if module.hasPrefix("fts"), options.contains("content=''") || options.contains("content=\"\"") {
                kind = .virtualSchemaOnly(module: module)
            } else if module.hasPrefix("fts"), options.contains("content=") {
                kind = .virtualExternalContent
            } else if readableModules.contains(module) {
                kind = .virtualReadable(module: module)
            } else {
                kind = .virtualSchemaOnly(module: module)
            }
        } else {
            kind = .table
        }

        let selectsRowid: Bool, insertsRowid: Bool
        switch kind {
        case .virtualReadable(let module) where module.hasPrefix("fts"):
            selectsRowid = true
            insertsRowid = true
        case .virtualReadable, .virtualExternalContent, .virtualSchemaOnly:
            selectsRowid = false
            insertsRowid = false
        case .table:
            if withoutRowid || rowidName == nil {
                selectsRowid = false
                insertsRowid = false
            } else {
                // A single-column INTEGER PRIMARY KEY aliases the rowid and has no 'pk' index;
                // any other table keeps its rowids only if the dump writes them.
                let pkIndexes = try db.scalarInt("SELECT count(*) FROM pragma_index_list(\(quotedLiteral), 'main') WHERE origin = 'pk'")
                insertsRowid = !(pk.count == 1 && pkIndexes == 0)
                selectsRowid = insertsRowid || dialect.statementLimit != nil
            }
        }
        return TableSpec(name: name, sql: sql, kind: kind, withoutRowid: withoutRowid, columns: columns,
                         selectsRowid: selectsRowid, insertsRowid: insertsRowid,
                         rowidName: rowidName, primaryKey: pk.sorted { $0.0 < $1.0 }.map(\.1),
                         omitsColumns: columns.count < total,
                         dependencies: dependencies)
    }

    package static func isVirtual(_ sql: String) -> Bool { virtualModule(sql) != nil }

    /// The module name of `CREATE VIRTUAL TABLE x USING module(...)`, or nil for other tables.
    static func virtualModule(_ sql: String) -> String? {
        let upper = sql.uppercased()
        guard upper.hasPrefix("CREATE VIRTUAL TABLE"), let using = upper.range(of: " USING ") else { return nil }
        let rest = sql[using.upperBound...].drop { $0 == " " }
        let module = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
        return module.lowercased()
    }

    /// Kahn's algorithm over foreign keys, ties (and cycles) broken by schema order, so a
    /// table's parents come first whenever that is possible. Virtual tables go last.
    static func dependencyOrder(_ specs: [TableSpec]) -> [TableSpec] {
        let regular = specs.filter { $0.kind == .table }
        let virtual = specs.filter { $0.kind != .table }
        // SQLite names are case-insensitive: a foreign key may spell its parent differently.
        let names = Set(regular.map { $0.name.lowercased() })
        var remaining = regular.map { spec in
            (spec, Set(spec.dependencies.map { $0.lowercased() }.filter { names.contains($0) && $0 != spec.name.lowercased() }))
        }
        var ordered: [TableSpec] = []
        var placed: Set<String> = []
        while !remaining.isEmpty {
            // In a cycle, take the table waiting on the fewest others: it is inside the cycle
            // rather than a child hanging off it.
            let index = remaining.firstIndex { $0.1.isSubset(of: placed) }
                ?? remaining.indices.min { remaining[$0].1.subtracting(placed).count < remaining[$1].1.subtracting(placed).count } ?? 0
            let (spec, _) = remaining.remove(at: index)
            ordered.append(spec)
            placed.insert(spec.name.lowercased())
        }
        return ordered + virtual
    }
}
