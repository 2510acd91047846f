import ChunkIO
import Foundation
import SQLiteDump
import Testing
import TestSupport

/// Feeds a script to the loader in pieces of `pieceSize`, so statements straddle every boundary.
func load(_ script: [UInt8], into database: String, pieceSize: Int,
          accepts: ScriptLoader.Source = .backstream) throws -> ScriptLoader {
    let loader = try ScriptLoader(databasePath: database, name: "test script", accepts: accepts)
    var offset = 0
    while offset < script.count {
        let end = min(script.count, offset + pieceSize)
        try script[offset..<end].withUnsafeBytes { try loader.feed($0) }
        offset = end
    }
    try loader.finish()
    return loader
}

@Suite("Script loader")
struct ScriptLoaderTests {
    @Test("restores every tricky database exactly", arguments: TrickyDatabases.all, Dialect.allCases)
    func restoresCorpus(_ tricky: TrickyDatabases.Case, dialect: Dialect) throws {
        let dir = try TemporaryDirectory("loader-\(tricky.name)")
        defer { dir.remove() }
        let source = dir.file("source.db")
        try tricky.build(try TestDatabase(source))
        let (summary, script) = try dumpToFile(source, dir.file("d.sql"), dialect: dialect)
        let loader = try load(script, into: dir.file("restored.db"), pieceSize: 777)
        #expect(loader.trailer != nil)
        #expect(loader.header.rows == summary.rows)
        #expect(loader.header.tableRows.count == summary.rowsPerTable.count)
        var options = DatabaseComparison.Options()
        if dialect == .d1 {
            options.compareHeaderPragmas = false
            options.compareStat1 = false
        }
        let differences = try DatabaseComparison.differences(source, dir.file("restored.db"), options: options)
        #expect(differences.isEmpty, "\(differences.joined(separator: "\n"))")
    }

    @Test("takes the fast path for Backstream's own rows")
    func fastPath() throws {
        let dir = try TemporaryDirectory("loader-fast")
        defer { dir.remove() }
        let source = try Fixtures.copy(Fixtures.chinook, to: dir, as: "c.sqlite")
        let (_, script) = try dumpToFile(source, dir.file("d.sql"))
        let loader = try load(script, into: dir.file("r.db"), pieceSize: 1 << 20)
        #expect(loader.rowsInserted == 15_607)
        #expect(try DatabaseComparison.differences(source, dir.file("r.db")).isEmpty)
    }

    @Test("also loads a script written by sqlite3 .dump")
    func foreignScript() throws {
        let dir = try TemporaryDirectory("loader-foreign")
        defer { dir.remove() }
        let source = try Fixtures.copy(Fixtures.chinook, to: dir, as: "c.sqlite")
        let dump = try ProcessRunner.run(["sqlite3", source, ".dump"])
        #expect(dump.status == 0)
        let loader = try load([UInt8](dump.stdout), into: dir.file("r.db"), pieceSize: 4096, accepts: .anyScript)
        #expect(loader.isForeign)
        #expect(loader.trailer == nil)
        #expect(try DatabaseComparison.differences(source, dir.file("r.db")).isEmpty)
    }

    @Test("a script cut mid-statement fails with a clear error")
    func truncated() throws {
        let dir = try TemporaryDirectory("loader-cut")
        defer { dir.remove() }
        let source = try Fixtures.copy(Fixtures.chinook, to: dir, as: "c.sqlite")
        let (_, script) = try dumpToFile(source, dir.file("d.sql"))
        let cut = Array(script.prefix(script.count / 2))
        #expect {
            _ = try load(cut, into: dir.file("r.db"), pieceSize: 65536)
        } throws: { error in
            "\(error)".contains("truncated") || "\(error)".contains("failed")
        }
    }

    @Test("rows of more tables and column lists than the loader keeps statements for land where they belong")
    func manyPrefixes() throws {
        let dir = try TemporaryDirectory("loader-prefixes")
        defer { dir.remove() }
        // 150 tables, three column lists each, visited round-robin three times: ids are reused
        // (64 at most) while the rows go on alternating between them.
        var script = "-- Backstream SQL dump\n-- format: 1\nBEGIN TRANSACTION;\n"
        for t in 0..<150 { script += "CREATE TABLE t\(t)(a, b);\n" }
        for round in 0..<3 {
            for t in 0..<150 {
                script += "INSERT INTO \"t\(t)\" VALUES(\(round),\(t));\n"
                script += "INSERT INTO \"t\(t)\"(\"b\",\"a\") VALUES(\(t),\(round + 10));\n"
                script += "INSERT INTO \"t\(t)\"( \"a\") VALUES(\(round + 20));\n"
            }
        }
        script += "COMMIT;\n"
        let loader = try load(Array(script.utf8), into: dir.file("r.db"), pieceSize: 1000)
        #expect(loader.rowsInserted == 1350)
        let check = try ProcessRunner.run(["sqlite3", dir.file("r.db"), """
            SELECT count(*) FROM t0; SELECT count(*) FROM t149 WHERE b = 149;
            SELECT group_concat(a) FROM (SELECT a FROM t77 ORDER BY rowid);
            """])
        #expect(check.stdoutText == "9\n6\n0,10,20,1,11,21,2,12,22\n", "\(check.stdoutText)")
    }
}
