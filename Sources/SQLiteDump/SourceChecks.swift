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

    /// Runs `foreign_key_check` on `db` and summarises it. Memory stays bounded however many
    /// rows violate their keys (a log table whose users were deleted can have millions): SQLite's
    /// sorter orders the rows, within the connection's cache size, spilling to temporary files.
    package static func foreignKeys(_ db: Connection) throws -> (violations: Int?, digest: String) {
        do {
            let digest = try namesSortAsBytes(db) ? sortedBySQLite(db) : sortedInMemory(db)
            return (digest.rows, String(digest.hash, radix: 16))
        } catch {
            // The check could not run (a foreign key mismatch): the same schema fails the same way.
            guard error.code == .other else { throw error }
            return (nil, "-")
        }
    }

    /// FNV-1a 64 over the violation rows in sorted order, each followed by a newline.
    private struct Digest {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        var rows = 0

        @inline(__always) mutating func add<Bytes: Sequence>(_ row: Bytes) where Bytes.Element == UInt8 {
            for byte in row { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
            hash = (hash ^ 0x0A) &* 0x0000_0100_0000_01B3
            rows += 1
        }
    }

    /// The row as the digest reads it: table, rowid ("null" without one), parent and fkid,
    /// joined by U+001F.
    private static let sortedRowsSQL = """
        SELECT "table" || char(31) || ifnull(rowid, 'null') || char(31) || parent || char(31) || fkid AS row
        FROM pragma_foreign_key_check ORDER BY row
        """

    /// Digests have always hashed the rows in Swift's string order (NFC scalars); for names in
    /// NFC that is the byte order SQLite's BINARY collation sorts by.
    private static func sortedBySQLite(_ db: Connection) throws(SQLiteError) -> Digest {
        let statement = try db.prepare(sortedRowsSQL)
        var digest = Digest()
        while try statement.step() { digest.add(statement.text(0)) }
        return digest
    }

    /// Names that are not NFC (or not UTF-8) sort differently in Swift than by their bytes:
    /// those (rare) databases keep the rows in memory to digest them as before.
    private static func sortedInMemory(_ db: Connection) throws(SQLiteError) -> Digest {
        let statement = try db.prepare("SELECT \"table\", rowid, parent, fkid FROM pragma_foreign_key_check")
        var rows: [String] = []
        while try statement.step() {
            let rowid = statement.type(1) == SQLITE_NULL ? "null" : String(statement.int64(1))
            rows.append("\(statement.string(0))\u{1F}\(rowid)\u{1F}\(statement.string(2))\u{1F}\(statement.int64(3))")
        }
        var digest = Digest()
        for row in rows.sorted() { digest.add(row.utf8) }
        return digest
    }

    /// True when every table name and every name a foreign key references is valid UTF-8 in NFC.
    private static func namesSortAsBytes(_ db: Connection) throws(SQLiteError) -> Bool {
        let names = try db.prepare("""
            SELECT name FROM main.sqlite_schema WHERE type = 'table'
            UNION ALL
            SELECT f."table" FROM main.sqlite_schema AS s, pragma_foreign_key_list(s.name) AS f WHERE s.type = 'table'
            """)
        while try names.step() {
            let bytes = names.text(0)
            guard bytes.contains(where: { $0 >= 0x80 }) else { continue }
            // Decoding repairs invalid UTF-8, so such a name fails the comparison too.
            let nfc = String(decoding: bytes, as: UTF8.self).precomposedStringWithCanonicalMapping
            if !nfc.utf8.elementsEqual(bytes) { return false }
        }
        return true
    }

    /// The lines of `integrity_check` ("ok" alone when the database is sound).
    package static func integrity(_ db: Connection) throws -> [String] {
        let statement = try db.prepare("PRAGMA integrity_check")
        var lines: [String] = []
        while try statement.step() { lines.append(statement.string(0)) }
        return lines
    }
}
