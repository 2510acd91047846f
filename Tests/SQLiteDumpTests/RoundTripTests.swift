import Foundation
import SQLiteDump
import Testing
import TestSupport

@Suite("Round trips through the sqlite3 shell")
struct RoundTripTests {
    @Test("every value, object and pragma survives", arguments: TrickyDatabases.all, Dialect.allCases)
    func roundTrip(_ tricky: TrickyDatabases.Case, dialect: Dialect) throws {
        let dir = try TemporaryDirectory("roundtrip-\(tricky.name)")
        defer { dir.remove() }
        let source = dir.file("source.db")
        try tricky.build(try TestDatabase(source))

        let scriptPath = dir.file("dump.sql")
        let (summary, script) = try dumpToFile(source, scriptPath, dialect: dialect, chunkSize: 64 * 1024)
        let text = String(decoding: script, as: UTF8.self)
        #expect(text.hasPrefix(DumpFormat.headerFirstLine))
        #expect(text.hasSuffix("\(DumpFormat.trailerPrefix) \(summary.tables) tables, \(summary.rows) rows.\n"))

        var toRun = scriptPath
        var comparison = DatabaseComparison.Options()
        if dialect == .d1 {
            #expect(SQLScript.d1Violations(script) == [])
            // D1 runs the file as one unit with foreign keys enforced (deferred by the dump).
            toRun = dir.file("d1-wrapped.sql")
            let wrapped = Array("PRAGMA foreign_keys=ON;\nBEGIN;\n".utf8) + script + Array("COMMIT;\n".utf8)
            try Data(wrapped).write(to: URL(fileURLWithPath: toRun))
            comparison.compareHeaderPragmas = false
            comparison.compareStat1 = false
        }
        let restored = dir.file("restored.db")
        let result = try restoreWithSQLite3(toRun, into: restored)
        #expect(result.status == 0, "sqlite3 failed: \(result.stderrText)")
        #expect(result.stderrText.isEmpty)

        let differences = try DatabaseComparison.differences(source, restored, options: comparison)
        #expect(differences.isEmpty, "\(differences.joined(separator: "\n"))")
        let check = try TestDatabase(restored, readOnly: true)
        #expect(try check.strings("PRAGMA integrity_check") == ["ok"])
        #expect(try check.query("PRAGMA foreign_key_check").isEmpty)
    }

    @Test("full-text indexes are searchable after a restore", arguments: Dialect.allCases)
    func ftsSearchable(dialect: Dialect) throws {
        let dir = try TemporaryDirectory("fts")
        defer { dir.remove() }
        let source = dir.file("source.db")
        guard let fts = TrickyDatabases.all.first(where: { $0.name == "fts5" }) else {
            Issue.record("fts5 case missing from the corpus")
            return
        }
        try fts.build(try TestDatabase(source))
        _ = try dumpToFile(source, dir.file("d.sql"), dialect: dialect)
        let restored = dir.file("r.db")
        #expect(try restoreWithSQLite3(dir.file("d.sql"), into: restored).status == 0)
        let db = try TestDatabase(restored)
        #expect(try db.query("SELECT rowid FROM docs WHERE docs MATCH 'backup'") == [[.integer(10)]])
        #expect(try db.query("SELECT rowid FROM docs WHERE docs MATCH 'cafe'") == [[.integer(35)]])
        #expect(try db.query("SELECT rowid FROM articles_fts WHERE articles_fts MATCH 'fox'") == [[.integer(1)]])
        #expect(try db.strings("SELECT count(*) FROM docs_data").first != "0")
    }

    @Test("the chinook database restores identically")
    func chinook() throws {
        let dir = try TemporaryDirectory("chinook")
        defer { dir.remove() }
        let source = try Fixtures.copy(Fixtures.chinook, to: dir, as: "chinook.sqlite")
        let (summary, _) = try dumpToFile(source, dir.file("d.sql"))
        #expect(summary.tables == 11)
        #expect(summary.rows == 15_607)
        let restored = dir.file("r.db")
        #expect(try restoreWithSQLite3(dir.file("d.sql"), into: restored).status == 0)
        #expect(try DatabaseComparison.differences(source, restored).isEmpty)
    }
}

@Suite("Hidden rowids in the dump")
struct ImplicitRowidTests {
    @Test("a rowid SQLite would assign anyway is left out; every other one is written")
    func leftOutOnlyWhenImplied() throws {
        let text = try dumpText(of: """
            CREATE TABLE t(a);
            INSERT INTO t(rowid, a) VALUES(1, 'a'), (2, 'b'), (7, 'c'), (8, 'd');
            CREATE TABLE n(a);
            INSERT INTO n(rowid, a) VALUES(-2, 'neg'), (-1, 'neg2'), (3, 'pos');
            """)
        let inserts = text.split(separator: "\n").filter { $0.hasPrefix("INSERT") }
        #expect(inserts == [
            #"INSERT INTO "t" VALUES('a');"#,
            #"INSERT INTO "t" VALUES('b');"#,
            #"INSERT INTO "t"(rowid,"a") VALUES(7,'c');"#,
            #"INSERT INTO "t" VALUES('d');"#,
            #"INSERT INTO "n"(rowid,"a") VALUES(-2,'neg');"#,
            #"INSERT INTO "n"(rowid,"a") VALUES(-1,'neg2');"#,
            #"INSERT INTO "n"(rowid,"a") VALUES(3,'pos');"#,
        ])
    }
}
