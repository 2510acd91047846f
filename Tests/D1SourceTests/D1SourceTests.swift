import Backup
import ChunkIO
import D1Source
import Foundation
import SQLiteDump
import Testing
import TestSupport

/// A D1 database behind the emulator, and its reference copy (without `_cf_KV`, which the
/// emulator adds and a dump must skip).
private struct Served {
    let dir: TemporaryDirectory
    let reference: String
    let emulator: D1Emulator

    init(_ label: String, arguments: [String] = [], build: (TestDatabase) throws -> Void) throws {
        dir = try TemporaryDirectory("d1-\(label)")
        reference = dir.file("reference.db")
        try build(try TestDatabase(reference))
        try D1Emulator.place(reference, in: dir.file("d1"), as: "app")
        emulator = try D1Emulator(folder: dir.file("d1"), arguments: arguments)
    }

    func location(_ database: String = "app") throws -> D1Location {
        try D1Location("d1://\(D1Emulator.account)/\(database)", environment: emulator.environment())
    }

    func finish() {
        emulator.stop()
        dir.remove()
    }

    /// Dumps through `D1Source` in this process, restores with the sqlite3 shell, and returns
    /// the restored file, the summary and the source.
    func dumpAndRestore(options: D1Source.Options = fastRetries()) throws -> (restored: String, summary: DumpSummary, source: D1Source) {
        let source = try D1Source(location: try location(), options: options)
        let script = dir.file("dump.sql")
        let summary = try Dumper(source: source, options: DumpOptions()).run(into: try FileSink.atomicFile(at: script))
        let restored = dir.file("restored.db")
        try? FileManager.default.removeItem(atPath: restored)
        let result = try ProcessRunner.run(["sqlite3", "-bail", restored], stdinFile: script)
        #expect(result.status == 0, "\(result.stderrText)")
        return (restored, summary, source)
    }
}

private func fastRetries() -> D1Source.Options {
    var options = D1Source.Options()
    options.retry.firstDelay = 0.01
    options.retry.maxDelay = 2
    return options
}

private func comparison() -> DatabaseComparison.Options {
    var options = DatabaseComparison.Options()
    // D1 refuses PRAGMA user_version and application_id, so a D1 database has neither.
    options.compareHeaderPragmas = false
    return options
}

@Suite("D1 source against the emulator")
struct D1SourceTests {
    @Test("the official cloudflare SDK parses every emulator answer as its own types")
    func officialSDK() throws {
        let served = try Served("sdk") { db in
            try db.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t(v) VALUES ('a');")
        }
        defer { served.finish() }
        let result = try ProcessRunner.run(["python3", "\(Fixtures.packageRoot)/Tests/D1SourceTests/sdk_check.py",
                                            served.emulator.baseURL, D1Emulator.token, D1Emulator.account, "app"])
        #expect(result.status == 0, "\(result.stdoutText)\(result.stderrText)")
        #expect(result.stdoutText.contains("sdk check ok"))
    }

    /// "blobs" holds a 3 MB BLOB, over D1's 2 MB per-value limit: no D1 database can hold it, and
    /// reading it fails with "more than 16 MiB for one request" (page halving does not recover in
    /// that path yet; noted as open in issue 13).
    @Test("every tricky value and object arrives exactly", arguments: TrickyDatabases.all.filter { $0.name != "blobs" })
    func tricky(_ tricky: TrickyDatabases.Case) throws {
        let served = try Served(tricky.name, build: tricky.build)
        defer { served.finish() }
        var options = fastRetries()
        options.pageRows = 7  // many pages even for small tables: the keyset continuation is exercised
        options.firstPageRows = 5
        let (restored, _, source) = try served.dumpAndRestore(options: options)
        #expect(try DatabaseComparison.differences(served.reference, restored, options: comparison()) == [])
        #expect(source.finalNotes["d1-consistent"] == "true")
    }

    @Test("chinook arrives value by value; a small database is read in one batch")
    func chinook() throws {
        // Chinook is copied as a file: the schema text must stay byte for byte.
        let dir = try TemporaryDirectory("d1-chinook-file")
        defer { dir.remove() }
        try D1Emulator.place(Fixtures.chinook, in: dir.file("d1"), as: "chinook")
        let emulator = try D1Emulator(folder: dir.file("d1"))
        defer { emulator.stop() }
        let location = try D1Location("d1://\(D1Emulator.account)/chinook", environment: emulator.environment())
        var options = fastRetries()
        options.pageRows = 500
        let source = try D1Source(location: location, options: options)
        let script = dir.file("dump.sql")
        let summary = try Dumper(source: source, options: DumpOptions()).run(into: try FileSink.atomicFile(at: script))
        #expect(summary.tables == 11 && summary.rows == 15_607)
        let restored = dir.file("restored.db")
        #expect(try ProcessRunner.run(["sqlite3", "-bail", restored], stdinFile: script).status == 0)
        #expect(try DatabaseComparison.differences(Fixtures.chinook, restored, options: comparison()) == [])
        #expect(try String(contentsOfFile: script, encoding: .utf8).contains("-- d1-bookmark: \(source.startBookmark)"))

        // A few rows per table: list, bookmark, schema, one batch of counts and rows, bookmark.
        let small = try Served("small") { db in
            try db.execute("CREATE TABLE a(x); CREATE TABLE b(y INTEGER PRIMARY KEY, z); INSERT INTO a VALUES (1),(2); INSERT INTO b(z) VALUES ('q');")
        }
        defer { small.finish() }
        let (smallRestored, _, smallSource) = try small.dumpAndRestore()
        #expect(smallSource.requestCount == 5)
        #expect(try DatabaseComparison.differences(small.reference, smallRestored, options: comparison()) == [])
    }

    @Test("300 tables arrive value by value, counted and read in batches")
    func threeHundredTables() throws {
        let served = try Served("300", build: { try manyTables($0) })
        defer { served.finish() }
        let (restored, summary, source) = try served.dumpAndRestore()
        #expect(summary.tables == 300 && summary.rows == 600)
        #expect(try DatabaseComparison.differences(served.reference, restored, options: comparison()) == [])
        // Counts and first pages go 20 tables to a request: far fewer requests than tables.
        #expect(source.requestCount < 100, "\(source.requestCount) requests")
    }

    @Test("wide rows: the first page is cut by bytes and the table goes on after it, exactly")
    func wideRows() throws {
        let served = try Served("wide") { db in
            try db.execute("""
                CREATE TABLE w(id INTEGER PRIMARY KEY, body BLOB, note TEXT);
                WITH RECURSIVE i(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM i WHERE v < 60)
                    INSERT INTO w(body, note) SELECT randomblob(20000), 'row ' || v FROM i;
                CREATE TABLE n(x); INSERT INTO n VALUES (1);
                """)
        }
        defer { served.finish() }
        let (restored, summary, source) = try served.dumpAndRestore()
        #expect(summary.rows == 61)
        #expect(try DatabaseComparison.differences(served.reference, restored, options: comparison()) == [])
        // 60 rows of 20 KB pass the first page's 96 KiB: the rest of the table needs its own request.
        #expect(source.requestCount > 5)
    }

    @Test("plain JSON loses an integer above 2^53; the SQL-side encoding does not")
    func jsonPrecision() throws {
        let exact: Int64 = 9_007_199_254_740_993
        let served = try Served("precision") { db in
            try db.execute("CREATE TABLE t(v INTEGER); INSERT INTO t VALUES (\(exact));")
        }
        defer { served.finish() }
        let client = try D1Client(location: try served.location())
        let id = try client.resolveDatabaseID()
        let plain = try client.raw(database: id, ["SELECT v FROM t"])
        let number = try #require(plain.first?.first?.first as? NSNumber)
        #expect(number.int64Value != exact, "the emulator must lose precision the way JSON numbers do")
        let (restored, _, _) = try served.dumpAndRestore()
        #expect(try TestDatabase(restored).query("SELECT v FROM t") == [[.integer(exact)]])
    }

    @Test("429 bursts and connections dropped mid-answer are survived without duplicate or missing rows")
    func faults() throws {
        let dir = try TemporaryDirectory("d1-faults")
        defer { dir.remove() }
        try D1Emulator.place(Fixtures.chinook, in: dir.file("d1"), as: "chinook")
        let emulator = try D1Emulator(folder: dir.file("d1"), arguments: [
            "--rate-limit-after", "6", "--rate-limit-burst", "2", "--retry-after", "1", "--drop-at", "3,7,12",
        ])
        defer { emulator.stop() }
        var options = fastRetries()
        options.pageRows = 1000
        let source = try D1Source(location: try D1Location("d1://\(D1Emulator.account)/chinook", environment: emulator.environment()),
                                  options: options)
        let script = dir.file("dump.sql")
        let started = Date()
        _ = try Dumper(source: source, options: DumpOptions()).run(into: try FileSink.atomicFile(at: script))
        let restored = dir.file("restored.db")
        #expect(try ProcessRunner.run(["sqlite3", "-bail", restored], stdinFile: script).status == 0)
        #expect(try DatabaseComparison.differences(Fixtures.chinook, restored, options: comparison()) == [])
        #expect(source.retryCount >= 5)
        // Each burst of 429s carried Retry-After: 1, which the client waited out.
        #expect(Date().timeIntervalSince(started) >= 2)
    }

    @Test("a writer committing during the read: read again, then exact; always changing fails clearly or, allowed, is recorded")
    func changingDatabase() throws {
        let build: (TestDatabase) throws -> Void = { db in
            try db.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);")
            for i in 0..<50 { try db.execute("INSERT INTO t(v) VALUES ('row \(i)')") }
        }
        let insert = "INSERT INTO t(v) VALUES ('written during the backup')"
        // One write after the 3rd query: the first read sees the bookmark move, the second is clean.
        let once = try Served("change-once", arguments: ["--write-after", "3", "--write-sql", insert], build: build)
        defer { once.finish() }
        var job = DumpJob.Options()
        job.outputPath = once.dir.file("dump.sql")
        var options = fastRetries()
        options.pageRows = 10
        options.firstPageRows = 5
        let location = try once.location()
        job.openSource = { [options] dumpOptions in Dumper(source: try D1Source(location: location, options: options), options: dumpOptions) }
        let outcome = try DumpJob.run(databasePath: "d1://app", options: job)
        #expect(outcome.summary.rows == 51)
        #expect(outcome.summary.sourceNotes["d1-consistent"] == "true")
        let restored = once.dir.file("restored.db")
        #expect(try ProcessRunner.run(["sqlite3", "-bail", restored], stdinFile: once.dir.file("dump.sql")).status == 0)
        #expect(try TestDatabase(restored).strings("SELECT CAST(count(*) AS TEXT) FROM t") == ["51"])

        // A write every 3 queries: every try sees a change.
        let always = try Served("change-always", arguments: ["--write-after", "3", "--write-repeat", "--write-sql", insert], build: build)
        defer { always.finish() }
        let alwaysLocation = try always.location()
        job.outputPath = always.dir.file("dump.sql")
        job.openSource = { [options] dumpOptions in Dumper(source: try D1Source(location: alwaysLocation, options: options), options: dumpOptions) }
        let error = #expect(throws: DumpError.self) { _ = try DumpJob.run(databasePath: "d1://app", options: job) }
        #expect(error?.code == .sourceChanged)
        #expect(error?.message.contains("changed while it was read") == true && error?.message.contains("--allow-changes") == true)
        #expect(!FileManager.default.fileExists(atPath: always.dir.file("dump.sql")))

        var allowing = options
        allowing.allowChanges = true
        job.openSource = { [allowing] dumpOptions in Dumper(source: try D1Source(location: alwaysLocation, options: allowing), options: dumpOptions) }
        let allowed = try DumpJob.run(databasePath: "d1://app", options: job)
        #expect(allowed.summary.sourceNotes["d1-consistent"] == "false")
        #expect(allowed.summary.sourceNotes["d1-bookmark-end"] != nil)
        let text = try String(contentsOfFile: always.dir.file("dump.sql"), encoding: .utf8)
        #expect(text.contains("-- d1-consistency: allow-changes"))
    }
}
