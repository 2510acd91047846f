import CSQLite
import Foundation
import SQLiteAccess

/// What `PRAGMA foreign_key_check` and `PRAGMA integrity_check` said about a database.
///
/// SQLite does not enforce foreign keys by default, so real databases hold violations; a
/// restore is judged by whether it reproduces the source's state, not an ideal one. The writer
/// records the source's result in a comment line before the trailer; the restore computes the
/// same on the new database and compares.
package struct SourceChecks: Sendable, Equatable {
    /// Number of rows `foreign_key_check` returned; nil when the check itself failed (for
    /// example "foreign key mismatch": a key that references a non-unique column).
    package var foreignKeyViolations: Int?
    /// FNV-1a 64 of the sorted violation rows (table, rowid, parent, fkid), in hex.
    package var foreignKeyDigest: String
    package var integrityOK: Bool

    package static let prefix = "-- source checks:"

    package init(foreignKeyViolations: Int?, foreignKeyDigest: String, integrityOK: Bool) {
        self.foreignKeyViolations = foreignKeyViolations
        self.foreignKeyDigest = foreignKeyDigest
        self.integrityOK = integrityOK
    }

    /// `-- source checks: foreign_key_check=4 digest=… integrity_check=ok`
    package var line: String {
        "\(Self.prefix) foreign_key_check=\(foreignKeyViolations.map(String.init) ?? "error") digest=\(foreignKeyDigest) integrity_check=\(integrityOK ? "ok" : "failed")"
    }

    package init?(line: String) {
        guard line.hasPrefix(Self.prefix) else { return nil }
        var fields: [Substring: Substring] = [:]
        for part in line.dropFirst(Self.prefix.count).split(separator: " ") {
            guard let equals = part.firstIndex(of: "=") else { continue }
            fields[part[..<equals]] = part[part.index(after: equals)...]
        }
        guard let fk = fields["foreign_key_check"], let digest = fields["digest"], let integrity = fields["integrity_check"],
              fk == "error" || Int(fk) != nil, integrity == "ok" || integrity == "failed" else { return nil }
        foreignKeyViolations = Int(fk)
        foreignKeyDigest = String(digest)
        integrityOK = integrity == "ok"
    }

    /// Runs `foreign_key_check` on `db` and summarises it.
    package static func foreignKeys(_ db: Connection) throws -> (violations: Int?, digest: String) {
        var rows: [String] = []
        do {
            rows = try foreignKeyRows(db)
        } catch {
            // The check could not run (a foreign key mismatch): the same schema fails the same way.
            guard error.code == .other else { throw error }
            return (nil, "-")
        }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for row in rows.sorted() {
            for byte in row.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
            hash = (hash ^ 0x0A) &* 0x0000_0100_0000_01B3
        }
        return (rows.count, String(hash, radix: 16))
    }

    private static func foreignKeyRows(_ db: Connection) throws(SQLiteError) -> [String] {
        let statement = try db.prepare("SELECT \"table\", rowid, parent, fkid FROM pragma_foreign_key_check")
        var collected: [String] = []
        while try statement.step() {
            let rowid = statement.type(1) == SQLITE_NULL ? "null" : String(statement.int64(1))
            collected.append("\(statement.string(0))\u{1F}\(rowid)\u{1F}\(statement.string(2))\u{1F}\(statement.int64(3))")
        }
        return collected
    }

    /// The lines of `integrity_check` ("ok" alone when the database is sound).
    package static func integrity(_ db: Connection) throws -> [String] {
        let statement = try db.prepare("PRAGMA integrity_check")
        var lines: [String] = []
        while try statement.step() { lines.append(statement.string(0)) }
        return lines
    }
}
