import Backup
import D1Source
import Foundation
import ObjectStore
import SQLiteDump
import Testing
import TestSupport

/// An emulated D1 account holding one database `app` (empty unless `build` fills it), and a
/// folder store to back up to.
private struct Target {
    let dir: TemporaryDirectory
    let emulator: D1Emulator
    var destination: BackupDestination { BackupDestination(store: DirectoryStore(root: dir.file("store")), prefix: BackupDestination.defaultPrefix) }

    init(_ label: String, build: (TestDatabase) throws -> Void = { _ in }) throws {
        dir = try TemporaryDirectory("d1-restore-\(label)")
        let seed = dir.file("seed.db")
        let db = try TestDatabase(seed)
        try build(db)
        try D1Emulator.place(seed, in: dir.file("d1"), as: "app")
        emulator = try D1Emulator(folder: dir.file("d1"))
    }

    func location() throws -> D1Location {
        try D1Location("d1://\(D1Emulator.account)/app", environment: emulator.environment())
    }

    /// A copy of the emulated database without D1's own `_cf_KV`, to compare with a source.
    func imported() throws -> String {
        let copy = dir.file("imported-\(UUID().uuidString).db")
        try FileManager.default.copyItem(atPath: dir.file("d1/app.sqlite3"), toPath: copy)
        try TestDatabase(copy).execute("DROP TABLE _cf_KV")
        return copy
    }

    /// Backs `database` up to the folder store in this process; returns the new entry.
    func backup(_ database: String, _ configure: (inout BackupJob.Options) -> Void = { _ in }) throws -> BackupEntry {
        var options = BackupJob.Options()
        options.threads = 1
        options.prune = false
        options.activityLog = false
        configure(&options)
        let outcome = try BackupJob.run(databasePath: database, destination: destination, options: options)
        return try destination.resolveKey(outcome.key)
    }

    func finish() {
        emulator.stop()
        dir.remove()
    }
}

private func fastPolls() -> D1Importer.Options {
    var options = D1Importer.Options()
    options.firstPollDelay = 0.02
    options.retry.firstDelay = 0.01
    return options
}

/// What D1 cannot hold, compared as the D1 source test does: no header pragmas (refused by D1)
/// and no sqlite_stat1 (D1 refuses writes to it).
private func comparison() -> DatabaseComparison.Options {
    var options = DatabaseComparison.Options()
    options.compareHeaderPragmas = false
    options.compareStat1 = false
    return options
}

/// `count` tables of a few rows each, with an index on every tenth.
func manyTables(_ db: TestDatabase, count: Int = 300) throws {
    var sql = ""
    for i in 0..<count {
        sql += "CREATE TABLE t\(i)(id INTEGER PRIMARY KEY, v TEXT, n REAL); INSERT INTO t\(i)(v, n) VALUES ('a\(i)', \(i).5), ('b', NULL);"
        if i % 10 == 0 { sql += "CREATE INDEX t\(i)_v ON t\(i)(v);" }
    }
    try db.execute(sql)
}

@Suite("D1 as a restore target, against the emulator")
struct D1RestoreTests {
    /// "blobs" holds a 3 MB BLOB, over D1's 2 MB per-value limit: no D1 database can hold it
    /// (the emulator does not enforce that limit, so the test would prove nothing true).
    @Test("a sqlite-dialect backup imports into D1 value by value", arguments: TrickyDatabases.all.filter { $0.name != "blobs" })
    func tricky(_ tricky: TrickyDatabases.Case) throws {
        let target = try Target(tricky.name)
        defer { target.finish() }
        let reference = target.dir.file("reference.db")
        try tricky.build(try TestDatabase(reference))
        let entry = try target.backup(reference)
        let report = try D1RestoreJob.restore(entry, from: target.destination, into: try target.location(), force: false, options: fastPolls())
        #expect(try DatabaseComparison.differences(reference, try target.imported(), options: comparison()) == [])
        #expect(report.queries > 0 || tricky.name == "empty")
        #expect(report.startBookmark != report.finalBookmark || report.queries == 0)
        if tricky.name == "header-pragmas" {
            #expect(report.notes.contains { $0.contains("user_version=20241115") && $0.contains("D1 refuses it") })
        }
    }

    @Test("rows over D1's 100,000-byte statement limit are split into an INSERT and UPDATEs that D1 accepts")
    func longRows() throws {
        let target = try Target("long-rows")
        defer { target.finish() }
        let reference = target.dir.file("reference.db")
        try TestDatabase(reference).execute("""
            CREATE TABLE docs(id INTEGER PRIMARY KEY, title TEXT, body TEXT, raw BLOB, odd TEXT);
            INSERT INTO docs VALUES (1, 'short', 'x', x'00', 'y');
            INSERT INTO docs VALUES (2, 'long', replace(hex(zeroblob(120000)), '00', 'é''ü'), randomblob(300000),
                                     CAST(x'ff00' || randomblob(90000) AS TEXT));
            CREATE TABLE plain(a TEXT, b);
            INSERT INTO plain(rowid, a, b) VALUES (77, replace(hex(zeroblob(70000)), '00', 'ab'), 1);
            """)
        let entry = try target.backup(reference)
        let report = try D1RestoreJob.restore(entry, from: target.destination, into: try target.location(), force: false, options: fastPolls())
        #expect(try DatabaseComparison.differences(reference, try target.imported(), options: comparison()) == [])
        #expect(report.statements > 10, "the long rows were written as INSERT + UPDATEs")
    }

    @Test("300 tables import in one file")
    func threeHundredTables() throws {
        let target = try Target("300")
        defer { target.finish() }
        let reference = target.dir.file("reference.db")
        try manyTables(try TestDatabase(reference))
        let entry = try target.backup(reference) { $0.compression = .zstd }
        _ = try D1RestoreJob.restore(entry, from: target.destination, into: try target.location(), force: false, options: fastPolls())
        #expect(try DatabaseComparison.differences(reference, try target.imported(), options: comparison()) == [])
    }

    @Test("every failure names its stage: a damaged object at decode, a refused import at poll (rolled back)")
    func stages() throws {
        let target = try Target("stages") { db in try db.execute("CREATE TABLE t(existing);") }
        defer { target.finish() }
        let reference = target.dir.file("reference.db")
        try TestDatabase(reference).execute("CREATE TABLE t(a); INSERT INTO t VALUES (1);")
        let entry = try target.backup(reference)

        // The target holds a table of the same name: D1 refuses the CREATE, the import rolls back.
        let refused = #expect(throws: D1RestoreError.self) {
            _ = try D1RestoreJob.restore(entry, from: target.destination, into: try target.location(), force: true, options: fastPolls())
        }
        #expect(refused?.stage == .poll && refused?.message.contains("already exists") == true, "\(String(describing: refused))")
        #expect(try TestDatabase(try target.imported()).strings("SELECT group_concat(name) FROM pragma_table_info('t')") == ["existing"])

        // A gzip object cut short fails in the decode stage, before D1 is asked anything.
        let path = target.dir.file("store/\(entry.info.key)")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: path))
        let damaged = #expect(throws: D1RestoreError.self) {
            _ = try D1RestoreJob.restore(try target.destination.resolveKey(entry.info.key), from: target.destination,
                                         into: try target.location(), force: true, options: fastPolls())
        }
        #expect(damaged?.stage == .decode, "\(String(describing: damaged))")
    }

    @Test("restore --into d1:// from a gzip and a zstd backup, Chinook value by value")
    func commandLine() throws {
        let target = try Target("cli")
        defer { target.finish() }
        let store = target.dir.file("store")
        let chinook = try Fixtures.copy(Fixtures.chinook, to: target.dir, as: "chinook.db")
        let gzip = try ProcessRunner.run([Fixtures.backstreamBinary, "backup", chinook, "--store", store, "--json"])
        #expect(gzip.status == 0, "\(gzip.stderrText)")
        let key = try #require((try JSONSerialization.jsonObject(with: gzip.stdout) as? [String: Any])?["key"] as? String)
        #expect(key.hasSuffix(".sql.gz"))
        let restore = try ProcessRunner.run([Fixtures.backstreamBinary, "restore", key, "--store", store, "--into", "d1:///app"],
                                            environment: target.emulator.environment())
        #expect(restore.status == 0, "\(restore.stderrText)")
        #expect(restore.stdoutText.contains("into d1://\(D1Emulator.account)/app"))
        #expect(try DatabaseComparison.differences(Fixtures.chinook, try target.imported(), options: comparison()) == [])

        // zstd, into a second database named by its id.
        let other = try Target("cli-zstd")
        defer { other.finish() }
        let small = other.dir.file("small.db")
        try TrickyDatabases.all.first { $0.name == "integers" }?.build(try TestDatabase(small))
        let zstd = try ProcessRunner.run([Fixtures.backstreamBinary, "backup", small, "--store", store, "--compression", "zstd", "--json"])
        #expect(zstd.status == 0, "\(zstd.stderrText)")
        let zstdKey = try #require((try JSONSerialization.jsonObject(with: zstd.stdout) as? [String: Any])?["key"] as? String)
        #expect(zstdKey.hasSuffix(".sql.zst"))
        let id = try D1Client(location: try other.location()).resolveDatabaseID()
        let json = try ProcessRunner.run([Fixtures.backstreamBinary, "restore", zstdKey, "--store", store, "--into", "d1://\(D1Emulator.account)/\(id)", "--json"],
                                         environment: other.emulator.environment())
        #expect(json.status == 0, "\(json.stderrText)")
        let answer = try #require(try JSONSerialization.jsonObject(with: json.stdout) as? [String: Any])
        #expect(answer["ok"] as? Bool == true && (answer["d1_bookmark_after"] as? String)?.isEmpty == false)
        #expect(try DatabaseComparison.differences(small, try other.imported(), options: comparison()) == [])
    }

    @Test("an age-encrypted backup imports with --identity; without it, the decode stage says why")
    func encrypted() throws {
        let target = try Target("age")
        defer { target.finish() }
        let store = target.dir.file("store")
        let key = target.dir.file("key.txt")
        #expect(try ProcessRunner.run(["age-keygen", "-o", key]).status == 0)
        let recipient = try ProcessRunner.run(["age-keygen", "-y", key]).stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        let source = target.dir.file("source.db")
        try TrickyDatabases.all.first { $0.name == "texts" }?.build(try TestDatabase(source))
        let backup = try ProcessRunner.run([Fixtures.backstreamBinary, "backup", source, "--store", store, "--encrypt-to", recipient,
                                            "--compression", "zstd", "--json"])
        #expect(backup.status == 0, "\(backup.stderrText)")
        let arguments = [Fixtures.backstreamBinary, "restore", "latest", "--store", store, "--into", "d1:///app"]

        let locked = try ProcessRunner.run(arguments, environment: target.emulator.environment())
        #expect(locked.status != 0)
        #expect(locked.stderrText.contains("decode stage"), "\(locked.stderrText)")
        #expect(try TestDatabase(try target.imported()).strings("SELECT CAST(count(*) AS TEXT) FROM sqlite_schema") == ["0"])

        let opened = try ProcessRunner.run(arguments + ["--identity", key], environment: target.emulator.environment())
        #expect(opened.status == 0, "\(opened.stderrText)")
        #expect(try DatabaseComparison.differences(source, try target.imported(), options: comparison()) == [])
    }

    @Test("a database that is not empty is refused without --force; with it, the bookmark and the rollback command come first, and work")
    func nonEmptyTarget() throws {
        let target = try Target("force") { db in try db.execute("CREATE TABLE existing(x); INSERT INTO existing VALUES ('kept');") }
        defer { target.finish() }
        let store = target.dir.file("store")
        let source = target.dir.file("source.db")
        try TestDatabase(source).execute("CREATE TABLE t(a); INSERT INTO t VALUES (1), (2);")
        #expect(try ProcessRunner.run([Fixtures.backstreamBinary, "backup", source, "--store", store]).status == 0)
        let arguments = [Fixtures.backstreamBinary, "restore", "latest", "--store", store, "--into", "d1:///app"]

        let refused = try ProcessRunner.run(arguments, environment: target.emulator.environment())
        #expect(refused.status != 0)
        #expect(refused.stderrText.split(separator: "\n").count == 1, "\(refused.stderrText)")
        #expect(refused.stderrText.contains("not empty") && refused.stderrText.contains("table existing") && refused.stderrText.contains("--force"))
        #expect(refused.stderrText.contains("check stage"))

        let forced = try ProcessRunner.run(arguments + ["--force"], environment: target.emulator.environment())
        #expect(forced.status == 0, "\(forced.stderrText)")
        let bookmarkLine = try #require(forced.stderrText.split(separator: "\n").first { $0.contains("bookmark now is") })
        let bookmark = try #require(bookmarkLine.split(separator: " ").first { $0.hasPrefix("--bookmark=") }?.dropFirst("--bookmark=".count))
        #expect(bookmarkLine.contains("wrangler d1 time-travel restore app --bookmark=\(bookmark)"))
        #expect(!forced.stderrText.contains(D1Emulator.token) && !forced.stdoutText.contains(D1Emulator.token))
        #expect(try TestDatabase(try target.imported()).strings("SELECT CAST(count(*) AS TEXT) FROM t") == ["2"])

        // The printed API command, run as printed (the token comes from the environment), undoes the import.
        let curl = try #require(bookmarkLine.range(of: "curl ").map { String(bookmarkLine[$0.lowerBound...]) })
        let rollback = try ProcessRunner.run(["sh", "-c", "\(curl) -sf"], environment: target.emulator.environment())
        #expect(rollback.status == 0, "\(rollback.stdoutText)\(rollback.stderrText)")
        let after = try TestDatabase(try target.imported())
        #expect(try after.strings("SELECT group_concat(name) FROM sqlite_schema") == ["existing"])
    }

    @Test("a wrong token is one line naming D1 and the cause, never the token")
    func wrongToken() throws {
        let target = try Target("token")
        defer { target.finish() }
        let source = target.dir.file("source.db")
        try TestDatabase(source).execute("CREATE TABLE t(a);")
        let store = target.dir.file("store")
        #expect(try ProcessRunner.run([Fixtures.backstreamBinary, "backup", source, "--store", store]).status == 0)
        let secret = "wrong-secret-token-456"
        let result = try ProcessRunner.run([Fixtures.backstreamBinary, "restore", "latest", "--store", store, "--into", "d1:///app"],
                                           environment: target.emulator.environment(token: secret))
        #expect(result.status != 0)
        #expect(result.stderrText.split(separator: "\n").count == 1, "\(result.stderrText)")
        #expect(result.stderrText.contains("D1") && result.stderrText.contains("Authentication error"))
        #expect(!result.stderrText.contains(secret) && !result.stdoutText.contains(secret))
    }
}
