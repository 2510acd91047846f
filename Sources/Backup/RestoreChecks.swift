import ChunkIO
import Foundation
import SQLiteDump
import Support
import SQLiteAccess

/// The checks a restored database must pass, run on hardened read-only connections:
/// integrity_check on one thread, row counts and foreign_key_check beside it on another,
/// so the checks take one core's time, not two.
///
/// They run after the loader has let go of its page cache and buffers, so larger caches here do
/// not raise the restore's peak memory, and they spare most page reads: foreign_key_check seeks
/// into parent tables (334k reads of a 200 MB database with 512 KiB, 73k with 8 MiB) and
/// integrity_check into every index (240k reads, 90k with 4 MiB: each page about once).
struct RestoreChecks {
    static let integrityCacheKiB = 4096
    static let foreignKeyCacheKiB = 8192

    var integrity: [String] = []
    var tables: [(name: String, expected: Int64, actual: Int64)] = []
    var foreignKeys: (violations: Int?, digest: String) = (0, "")
    var problems: [String] = []

    static func run(path: String, tables expected: [(name: String, rows: Int64)]) throws -> RestoreChecks {
        let side = ThreadResult("restore-counts") { try counts(path: path, expected) }
        let integrity = Result { () throws -> [String] in try SourceChecks.integrity(try reader(path, cacheKiB: integrityCacheKiB)) }
        var checks = try side.value()
        checks.integrity = try integrity.get()
        return checks
    }

    private static func reader(_ path: String, cacheKiB: Int) throws -> Connection {
        let db = try Connection(path: path, readOnly: true, noFollow: true)
        try db.harden()
        try db.execute("PRAGMA cache_size=-\(cacheKiB)")
        return db
    }

    /// Counts rows of the tables the header names; a header name that is not a table of the
    /// restored schema is a problem, never a view to run.
    private static func counts(path: String, _ expected: [(name: String, rows: Int64)]) throws -> RestoreChecks {
        let db = try reader(path, cacheKiB: foreignKeyCacheKiB)
        var checks = RestoreChecks()
        let kind = try db.prepare("SELECT type FROM main.sqlite_schema WHERE name = ?1")
        var seen = Set<String>(), repeatedOnce = Set<String>()
        var missing: [String] = [], repeated: [String] = []
        for table in expected {
            // Each table is counted once, however often a damaged header names it.
            guard seen.insert(table.name).inserted else {
                if repeatedOnce.insert(table.name).inserted { repeated.append(table.name) }
                continue
            }
            kind.reset()
            kind.bind(1, table.name)
            guard try kind.step(), kind.string(0) == "table" else {
                missing.append(table.name)
                continue
            }
            checks.tables.append((table.name, table.rows, try db.scalarInt("SELECT count(*) FROM main.\(SQLIdentifier.quote(table.name))")))
        }
        if !missing.isEmpty { checks.problems.append("the dump header names \(listed(missing)), which the script did not create") }
        if !repeated.isEmpty { checks.problems.append("the dump header names \(listed(repeated)) more than once") }
        checks.foreignKeys = try SourceChecks.foreignKeys(db)
        return checks
    }

    /// "table a", "tables a, b, c", or the first three and how many more.
    private static func listed(_ names: [String]) -> String {
        let shown = names.prefix(3).joined(separator: ", ")
        switch names.count {
        case 1: return "table \(shown)"
        case 2, 3: return "tables \(shown)"
        default: return "tables \(shown) and \(names.count - 3) more"
        }
    }
}
