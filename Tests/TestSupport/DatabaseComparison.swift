import Foundation

/// Compares two databases object by object and value by value (storage class and exact bytes),
/// including rowids, `user_version`, `application_id` and `sqlite_sequence`.
package enum DatabaseComparison {
    package struct Options: Sendable {
        package var compareHeaderPragmas = true
        package var compareStat1 = true
        package init() {}
    }

    /// Returns human-readable differences; empty means the databases hold the same things.
    package static func differences(_ lhsPath: String, _ rhsPath: String, options: Options = Options()) throws -> [String] {
        let a = try TestDatabase(lhsPath, readOnly: true)
        let b = try TestDatabase(rhsPath, readOnly: true)
        var diffs: [String] = []
        let schemaSQL = """
            SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_schema
            WHERE name NOT LIKE 'sqlite_autoindex_%' AND name <> 'sqlite_stat1' ORDER BY type, name
            """
        let sa = try a.query(schemaSQL), sb = try b.query(schemaSQL)
        if sa != sb {
            let setA = Set(sa.map { $0.description }), setB = Set(sb.map { $0.description })
            for s in setA.subtracting(setB).sorted() { diffs.append("schema only in original: \(s)") }
            for s in setB.subtracting(setA).sorted() { diffs.append("schema only in restored: \(s)") }
        }
        if options.compareHeaderPragmas {
            for pragma in ["user_version", "application_id"] {
                let x = try a.scalarInt("PRAGMA \(pragma)"), y = try b.scalarInt("PRAGMA \(pragma)")
                if x != y { diffs.append("PRAGMA \(pragma): \(x) vs \(y)") }
            }
        }
        var tables = try a.strings("""
            SELECT name FROM pragma_table_list WHERE schema = 'main' AND type IN ('table', 'virtual')
            AND name NOT IN ('sqlite_schema', 'sqlite_temp_schema') ORDER BY name
            """)
        if !options.compareStat1 { tables.removeAll { $0 == "sqlite_stat1" } }
        for table in tables {
            let quoted = "\"" + table.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            let kind = try a.strings("SELECT type || ':' || wr FROM pragma_table_list WHERE schema='main' AND name = '\(table.replacingOccurrences(of: "'", with: "''"))'").first ?? ""
            let hasRowid = kind == "table:0" || kind.hasPrefix("virtual")
            let order = hasRowid ? "rowid" : "1"
            let sql = hasRowid ? "SELECT rowid, * FROM \(quoted) ORDER BY \(order)" : "SELECT * FROM \(quoted) ORDER BY \(try ordering(a, table))"
            let ra: [[StoredValue]], rb: [[StoredValue]]
            do { ra = try a.query(sql) } catch { diffs.append("cannot read \(table) in original: \(error)"); continue }
            do { rb = try b.query(sql) } catch { diffs.append("cannot read \(table) in restored: \(error)"); continue }
            if ra.count != rb.count { diffs.append("\(table): \(ra.count) rows vs \(rb.count) rows") }
            for (i, (x, y)) in zip(ra, rb).enumerated() where x != y {
                diffs.append("\(table) row \(i): \(x) vs \(y)")
                if diffs.count > 20 { return diffs }
            }
        }
        return diffs
    }

    private static func ordering(_ db: TestDatabase, _ table: String) throws -> String {
        let count = try db.query("SELECT count(*) FROM pragma_table_info('\(table.replacingOccurrences(of: "'", with: "''"))')")
        guard case .integer(let n)? = count.first?.first, n > 0 else { return "1" }
        return (1...n).map(String.init).joined(separator: ",")
    }
}
