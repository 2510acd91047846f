import CSQLite
import Foundation
import SQLiteAccess
import SQLiteDump
import Testing
import TestSupport

/// The foreign-key digest a backup records must stay the value earlier versions computed (a
/// restore compares it with the restored database's), whichever way the rows are sorted now.
@Suite("Source checks")
struct SourceChecksTests {
    /// The digest as every earlier version computed it: all rows in memory, Swift's sort, FNV-1a.
    static func reference(_ db: Connection) throws -> (Int, String) {
        let statement = try db.prepare("SELECT \"table\", rowid, parent, fkid FROM pragma_foreign_key_check")
        var rows: [String] = []
        while try statement.step() {
            let rowid = statement.type(1) == SQLITE_NULL ? "null" : String(statement.int64(1))
            rows.append("\(statement.string(0))\u{1F}\(rowid)\u{1F}\(statement.string(2))\u{1F}\(statement.int64(3))")
        }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for row in rows.sorted() {
            for byte in row.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
            hash = (hash ^ 0x0A) &* 0x0000_0100_0000_01B3
        }
        return (rows.count, String(hash, radix: 16))
    }

    static func database(_ sql: String, in dir: TemporaryDirectory) throws -> Connection {
        let path = dir.file("fk.db")
        try TestDatabase(path).execute(sql)
        return try Connection(path: path, readOnly: true)
    }

    /// Rowids that sort differently as numbers and as text (9 < 10 < 100, "10" < "100" < "9"),
    /// two tables, two keys on one table and a WITHOUT ROWID child (rowid "null").
    static let schema = """
        CREATE TABLE %P(id INTEGER PRIMARY KEY);
        CREATE TABLE %C(id INTEGER PRIMARY KEY, a INTEGER REFERENCES %P(id), b INTEGER REFERENCES %P(id));
        CREATE TABLE %W(k TEXT PRIMARY KEY, a INTEGER REFERENCES %P(id)) WITHOUT ROWID;
        INSERT INTO %P VALUES(1);
        WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 120)
        INSERT INTO %C SELECT x, CASE WHEN x % 3 = 0 THEN 1 ELSE 1000 + x END, CASE WHEN x % 2 = 0 THEN NULL ELSE 2000 + x END FROM n;
        INSERT INTO %W VALUES('x', 5), ('y', 1), ('z', 7);
        """

    @Test("the digest matches the in-memory one, for NFC names (sorted by SQLite) and others (sorted in memory)",
          arguments: [("parent", "child", "wide"), ("p", "c", "p2"), ("\u{C9}l\u{E8}ves", "notes_\u{E9}l\u{E8}ves", "\u{F1}"),
                      ("e\u{301}", "E\u{301}l\u{E8}ves", "z\u{308}"), ("\u{C9}", "E\u{301}", "\u{E9}")])
    func digestMatchesReference(names: (String, String, String)) throws {
        let dir = try TemporaryDirectory("source-checks-digest")
        defer { dir.remove() }
        let sql = Self.schema.replacingOccurrences(of: "%P", with: "\"\(names.0)\"")
            .replacingOccurrences(of: "%C", with: "\"\(names.1)\"").replacingOccurrences(of: "%W", with: "\"\(names.2)\"")
        let db = try Self.database(sql, in: dir)
        let (violations, digest) = try SourceChecks.foreignKeys(db)
        let expected = try Self.reference(db)
        // 80 rows miss on a, 60 on b, two WITHOUT ROWID rows.
        #expect(violations == 142)
        #expect(violations == expected.0)
        #expect(digest == expected.1)
    }

    @Test("a recorded digest keeps its value: one known database, one known digest")
    func pinnedDigest() throws {
        let dir = try TemporaryDirectory("source-checks-pinned")
        defer { dir.remove() }
        let db = try Self.database("""
            CREATE TABLE p(id INTEGER PRIMARY KEY);
            CREATE TABLE c(id INTEGER PRIMARY KEY, pid INTEGER REFERENCES p(id));
            INSERT INTO p VALUES(1); INSERT INTO c VALUES(1,1),(2,99),(10,98);
            """, in: dir)
        let (violations, digest) = try SourceChecks.foreignKeys(db)
        #expect(violations == 2)
        // FNV-1a 64 of "c\u{1F}10\u{1F}p\u{1F}0\n" then "c\u{1F}2\u{1F}p\u{1F}0\n".
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in "c\u{1F}10\u{1F}p\u{1F}0\nc\u{1F}2\u{1F}p\u{1F}0\n".utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        #expect(digest == String(hash, radix: 16))
    }

    @Test("no violations give the empty digest; a key to a non-unique column cannot be checked")
    func emptyAndMismatch() throws {
        let dir = try TemporaryDirectory("source-checks-edge")
        defer { dir.remove() }
        let clean = try Self.database("CREATE TABLE p(id INTEGER PRIMARY KEY); CREATE TABLE c(pid REFERENCES p(id)); INSERT INTO c VALUES(NULL);", in: dir)
        let (none, emptyDigest) = try SourceChecks.foreignKeys(clean)
        #expect(none == 0)
        #expect(emptyDigest == "cbf29ce484222325")
        let other = try TemporaryDirectory("source-checks-mismatch")
        defer { other.remove() }
        let mismatch = try Self.database("CREATE TABLE p(x); CREATE TABLE c(px REFERENCES p(x)); INSERT INTO c VALUES(1);", in: other)
        let (unknown, dash) = try SourceChecks.foreignKeys(mismatch)
        #expect(unknown == nil)
        #expect(dash == "-")
    }
}
