import Foundation
import Testing
import TestSupport

/// A backup object is untrusted input: whoever holds a bucket key can write one. These tests
/// plant hostile objects in a folder store and check that verify and restore refuse them while
/// nothing outside the restore's own new file changes.
@Suite("Restore safety")
struct RestoreSafetyTests {
    static let key = "backups/database-2026-01-01-00-00-00.sql.gz"

    /// A script with Backstream's header and trailer around `body`, so only the sandbox stops it.
    static func framed(_ body: String) -> String {
        """
        -- Backstream SQL dump
        -- format: 1
        -- tables: 1
        -- rows: 0
        PRAGMA foreign_keys=OFF;
        BEGIN TRANSACTION;
        CREATE TABLE t(x);
        \(body)
        COMMIT;
        -- Backstream dump complete: 1 tables, 0 rows.

        """
    }

    static func gzip(_ text: String, in dir: TemporaryDirectory) throws -> Data {
        let plain = dir.file("plain-\(UUID().uuidString.prefix(6)).sql")
        try Data(text.utf8).write(to: URL(fileURLWithPath: plain))
        let result = try ProcessRunner.shell("gzip -c '\(plain)'")
        #expect(result.status == 0)
        return result.stdout
    }

    /// `dir/app.db`, made from `sql`.
    static func database(_ sql: String, in dir: TemporaryDirectory) throws -> String {
        let path = dir.file("app.db")
        try TestDatabase(path).execute(sql)
        return path
    }

    /// The folder store's file for `key` (its folder made), for a test that writes the object
    /// with a shell pipeline continuing `openScript`.
    static func objectFile(in dir: TemporaryDirectory) throws -> String {
        let object = dir.file("store/\(Self.key)")
        try FileManager.default.createDirectory(atPath: (object as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        return object
    }

    /// A framed script up to its COMMIT.
    static let openScript = framed("").components(separatedBy: "COMMIT;")[0]

    /// Runs backstream under /usr/bin/time: its result and its peak RSS in KiB.
    static func measured(_ arguments: [String]) throws -> (ProcessResult, peakKiB: Int) {
        let run = try ProcessRunner.run(["/usr/bin/time", "-f", "maxrss=%M", Fixtures.backstreamBinary] + arguments)
        let peak = run.stderrText.components(separatedBy: "maxrss=").last.flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        return (run, peak ?? .max)
    }

    /// Every file under `dir` with its size and modification time.
    static func snapshot(_ dir: String) -> [String: String] {
        var files: [String: String] = [:]
        for case let path as String in FileManager.default.enumerator(atPath: dir) ?? FileManager.DirectoryEnumerator() {
            let attributes = try? FileManager.default.attributesOfItem(atPath: "\(dir)/\(path)")
            files[path] = "\(attributes?[.size] ?? 0) \(attributes?[.modificationDate] ?? 0)"
        }
        return files
    }

    @Test("tampered objects fail verify and restore and touch nothing", arguments: [
        "attach-existing", "attach-new", "vacuum-into", "load-extension", "temp-trigger", "attached-trigger", "select",
    ])
    func tampered(_ attack: String) throws {
        let dir = try TemporaryDirectory("safety-\(attack)")
        defer { dir.remove() }
        let victim = dir.file("victim/app.db")
        try FileManager.default.createDirectory(atPath: dir.file("victim"), withIntermediateDirectories: true)
        #expect(try ProcessRunner.run(["sqlite3", victim, "CREATE TABLE t(a); INSERT INTO t VALUES(1),(2);"]).status == 0)
        let victimBytes = try Data(contentsOf: URL(fileURLWithPath: victim))
        let body: String
        switch attack {
        case "attach-existing": body = "ROLLBACK; ATTACH '\(victim)' AS x; DELETE FROM x.t; /**/BEGIN;"
        case "attach-new": body = "ATTACH '\(dir.file("victim/new.db"))' AS y; CREATE TABLE y.z(a);"
        case "vacuum-into": body = "VACUUM INTO '\(dir.file("victim/copy.db"))';"
        case "load-extension": body = "INSERT INTO t VALUES(load_extension('\(dir.file("victim/evil.so"))'));"
        case "temp-trigger": body = "CREATE TEMP TRIGGER tr AFTER INSERT ON main.t BEGIN DELETE FROM t; END; INSERT INTO t VALUES(1);"
        // A stored trigger whose body writes through a name that only an ATTACH would bind.
        case "attached-trigger":
            body = "CREATE TRIGGER tr AFTER INSERT ON t BEGIN DELETE FROM x.t; END; ATTACH '\(victim)' AS x; INSERT INTO t VALUES(1);"
        default: body = "SELECT * FROM t;"
        }
        let store = try StoreUnderTest.make("folder", in: dir)
        try store.put(Self.key, bytes: try Self.gzip(Self.framed(body), in: dir), scratch: dir)
        let before = Self.snapshot(dir.file("victim"))

        let verify = try store.run(["verify", Self.key])
        #expect(verify.status != 0)
        // SQLite itself refuses a stored trigger that names another schema, before the authorizer.
        let refusal = attack == "attached-trigger" ? "qualified table names are not allowed" : "refused"
        #expect(verify.stderrText.contains(refusal), "\(verify.stderrText)")
        let restore = try store.run(["restore", Self.key, "--into", dir.file("restored.db")])
        #expect(restore.status != 0)
        #expect(restore.stderrText.contains(refusal), "\(restore.stderrText)")

        #expect(try Data(contentsOf: URL(fileURLWithPath: victim)) == victimBytes)
        #expect(Self.snapshot(dir.file("victim")) == before)
        #expect(!FileManager.default.fileExists(atPath: dir.file("restored.db")))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains(".restore-") }
        #expect(leftovers.isEmpty)
    }

    @Test("an unterminated quote in a 200 MB stream fails at the statement bound with bounded memory")
    func unterminatedQuote() throws {
        let dir = try TemporaryDirectory("safety-quote")
        defer { dir.remove() }
        let store = try StoreUnderTest.make("folder", in: dir)
        let object = try Self.objectFile(in: dir)
        let made = try ProcessRunner.shell("""
            { printf '%s' '\(Self.openScript)'; printf "INSERT INTO \\"t\\" VALUES('"; head -c 200000000 /dev/zero | tr '\\0' a; } | gzip -1 > '\(object)'
            """)
        #expect(made.status == 0, "\(made.stderrText)")
        for arguments in [["verify", Self.key], ["restore", Self.key, "--into", dir.file("r.db")]] {
            let (run, rss) = try Self.measured(arguments + ["--store", store.url])
            #expect(run.status != 0)
            #expect(run.stderrText.contains("longer than 64 MiB"), "\(run.stderrText)")
            // 64 MiB of pending statement plus the process's own ~40 MiB; the stream is 200 MB.
            #expect(rss < 150 * 1024, "peak RSS \(rss) KiB")
        }
        #expect(!FileManager.default.fileExists(atPath: dir.file("r.db")))
    }

    @Test("a database with foreign-key violations round-trips; tampering with them fails")
    func foreignKeyViolations() throws {
        let dir = try TemporaryDirectory("safety-fk")
        defer { dir.remove() }
        let source = try Self.database("""
            CREATE TABLE p(id INTEGER PRIMARY KEY);
            CREATE TABLE c(id INTEGER PRIMARY KEY, pid INTEGER REFERENCES p(id));
            INSERT INTO p VALUES(1); INSERT INTO c VALUES(1,1),(2,99),(3,98),(4,97),(5,96);
            """, in: dir)
        let store = try StoreUnderTest.make("folder", in: dir)
        let backup = try store.run(["backup", source, "--json", "--no-activity-log"])
        #expect(backup.status == 0, "\(backup.stderrText)")
        let key = try #require(store.keys(scratch: dir).first)
        let verify = try store.run(["verify", key])
        #expect(verify.status == 0, "\(verify.stdoutText)\(verify.stderrText)")
        #expect(verify.stdoutText.contains("the source had 4 foreign key violations at backup time; the restored database reproduces exactly the same ones"))
        let restore = try store.run(["restore", key, "--into", dir.file("restored.db")])
        #expect(restore.status == 0, "\(restore.stderrText)")
        #expect(try DatabaseComparison.differences(source, dir.file("restored.db")).isEmpty)

        // A planted copy (no metadata, so no checksum) where one violation was "repaired".
        let sql = try ProcessRunner.shell("gunzip -c '\(dir.file("store/\(key)"))'").stdoutText
        #expect(sql.contains("INSERT INTO \"c\" VALUES(2,99);"))
        let tampered = sql.replacingOccurrences(of: "INSERT INTO \"c\" VALUES(2,99);", with: "INSERT INTO \"c\" VALUES(2,1);")
        try store.put(Self.key, bytes: try Self.gzip(tampered, in: dir), scratch: dir)
        let bad = try store.run(["verify", Self.key])
        #expect(bad.status != 0)
        #expect(bad.stdoutText.contains("but the source had 4 foreign key violations"), "\(bad.stdoutText)")
    }

    @Test("a million foreign-key violations back up and restore in bounded memory, the same ones reproduced")
    func manyForeignKeyViolations() throws {
        let dir = try TemporaryDirectory("safety-fk-many")
        defer { dir.remove() }
        // A log whose users were deleted: every row violates its key.
        let source = try Self.database("""
            CREATE TABLE users(id INTEGER PRIMARY KEY);
            CREATE TABLE log(id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id));
            WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 1000000) INSERT INTO log SELECT x, x FROM n;
            """, in: dir)
        let store = try StoreUnderTest.make("folder", in: dir)
        let (backup, backupPeak) = try Self.measured(["backup", source, "--store", store.url, "--no-activity-log"])
        #expect(backup.status == 0, "\(backup.stderrText)")
        let key = try #require(store.keys(scratch: dir).first)
        let (restore, restorePeak) = try Self.measured(["restore", key, "--into", dir.file("restored.db"), "--store", store.url])
        #expect(restore.status == 0, "\(restore.stderrText)")
        #expect(restore.stdoutText.contains("the source had 1000000 foreign key violations at backup time; the restored database reproduces exactly the same ones"),
                "\(restore.stdoutText)")
        // Holding the violations in memory took ~145 MiB each side; sorted by SQLite within its
        // cache, both stay near the process's usual peak (a debug build's is higher than release's).
        #expect(backupPeak < 96 * 1024, "backup peak RSS \(backupPeak) KiB")
        #expect(restorePeak < 96 * 1024, "restore peak RSS \(restorePeak) KiB")
    }

    @Test("a header naming tables millions of times fails at its bound; one naming a table twice counts it once")
    func hostileHeader() throws {
        let dir = try TemporaryDirectory("safety-header")
        defer { dir.remove() }
        let store = try StoreUnderTest.make("folder", in: dir)
        // 930 KB of gzip held 10M header lines: 2 GB of RSS and 200 s counting one table again and again.
        let endless = String(repeating: "-- table: 1 \"t\"\n", count: 300_000)
        try store.put(Self.key, bytes: try Self.gzip(Self.framed("").replacingOccurrences(of: "-- rows: 0\n", with: "-- rows: 0\n" + endless), in: dir),
                      scratch: dir)
        let (refused, peak) = try Self.measured(["verify", Self.key, "--store", store.url])
        #expect(refused.status != 0)
        #expect((refused.stdoutText + refused.stderrText).contains("the header runs past 200000 lines"), "\(refused.stdoutText)\(refused.stderrText)")
        #expect(peak < 96 * 1024, "peak RSS \(peak) KiB")

        let twice = Self.framed("INSERT INTO \"t\" VALUES(1);").replacingOccurrences(
            of: "-- rows: 0\n", with: "-- rows: 1\n" + String(repeating: "-- table: 1 \"t\"\n", count: 1000) + "-- table: 0 \"gone\"\n")
        try store.put(Self.key, bytes: try Self.gzip(twice, in: dir), scratch: dir)
        let verify = try store.run(["verify", Self.key])
        #expect(verify.status != 0)
        #expect(verify.stdoutText.contains("the dump header names table t more than once"), "\(verify.stdoutText)")
        #expect(verify.stdoutText.contains("the dump header names table gone, which the script did not create"), "\(verify.stdoutText)")
    }

    @Test("inserts with a different column list each (40,000 of them) restore in bounded memory")
    func distinctColumnLists() throws {
        let dir = try TemporaryDirectory("safety-prefixes")
        defer { dir.remove() }
        let store = try StoreUnderTest.make("folder", in: dir)
        let object = try Self.objectFile(in: dir)
        // Each line's spacing makes a new prefix: a prepared statement each, once all kept (3 KB apiece).
        let lines = "for i in range(40000): print('INSERT INTO \"t\"(' + ' ' * (i % 200) + '\"x\"' + ' ' * (i // 200) + ') VALUES(' + str(i) + ');')"
        let made = try ProcessRunner.shell("""
            { printf '%s' '\(Self.openScript)'; python3 -c "\(lines.replacingOccurrences(of: "\"", with: "\\\""))"; printf 'COMMIT;\\n-- Backstream dump complete: 1 tables, 40000 rows.\\n'; } | gzip -1 > '\(object)'
            """)
        #expect(made.status == 0, "\(made.stderrText)")
        let (restore, peak) = try Self.measured(["restore", Self.key, "--into", dir.file("r.db"), "--store", store.url])
        #expect(restore.status == 0, "\(restore.stdoutText)\(restore.stderrText)")
        #expect(try ProcessRunner.run(["sqlite3", dir.file("r.db"), "SELECT count(*), sum(x) FROM t"]).stdoutText == "40000|799980000\n")
        #expect(peak < 96 * 1024, "peak RSS \(peak) KiB")
    }

    @Test("empty, non-dump and truncated objects fail verify with the reason")
    func notABackup() throws {
        let dir = try TemporaryDirectory("safety-empty")
        defer { dir.remove() }
        let store = try StoreUnderTest.make("folder", in: dir)
        let real = try Self.gzip(Self.framed("INSERT INTO \"t\" VALUES(1);"), in: dir)
        let full = Self.framed(String(repeating: "INSERT INTO \"t\" VALUES(1);\n", count: 2000))
        // Cut at a line boundary: every statement whole, the trailer missing.
        let half = full.prefix(full.count / 2)
        let cut = String(half[...(half.lastIndex(of: "\n") ?? half.startIndex)])
        let cases: [(key: String, bytes: Data, reason: String)] = [
            ("backups/database-2026-01-01-00-00-01.sql", Data(), "is empty"),
            ("backups/database-2026-01-01-00-00-02.sql.gz", try Self.gzip("", in: dir), "is empty"),
            ("backups/database-2026-01-01-00-00-03.sql.gz", try Self.gzip("hello, this is not SQL\n", in: dir), "not a Backstream backup"),
            ("backups/database-2026-01-01-00-00-04.sql.gz", try Self.gzip(cut, in: dir), "cut short"),
        ]
        #expect(!real.isEmpty)
        for item in cases {
            try store.put(item.key, bytes: item.bytes, scratch: dir)
            let verify = try store.run(["verify", item.key])
            #expect(verify.status != 0, "\(item.key)")
            #expect((verify.stdoutText + verify.stderrText).contains(item.reason), "\(item.key): \(verify.stdoutText)\(verify.stderrText)")
        }
    }

    @Test("a sqlite3 .dump restores only with --allow-foreign, under the sandbox")
    func foreignScript() throws {
        let dir = try TemporaryDirectory("safety-foreign")
        defer { dir.remove() }
        let source = try Fixtures.copy(Fixtures.chinook, to: dir, as: "c.sqlite")
        let store = try StoreUnderTest.make("folder", in: dir)
        let dump = try ProcessRunner.run(["sqlite3", source, ".dump"])
        try store.put(Self.key, bytes: try Self.gzip(dump.stdoutText, in: dir), scratch: dir)
        let refused = try store.run(["restore", Self.key, "--into", dir.file("r.db")])
        #expect(refused.status != 0)
        #expect(refused.stderrText.contains("not a Backstream backup"))
        #expect(!FileManager.default.fileExists(atPath: dir.file("r.db")))
        #expect(try store.run(["verify", Self.key]).status != 0)
        let allowed = try store.run(["restore", Self.key, "--into", dir.file("r.db"), "--allow-foreign"])
        #expect(allowed.status == 0, "\(allowed.stderrText)")
        #expect(try ProcessRunner.run(["sqlite3", dir.file("r.db"), "SELECT count(*) FROM Track"]).stdoutText == "3503\n")
    }

    @Test("restore --into a symbolic link touches nothing outside; with --force it replaces the link only")
    func symbolicLinkTarget() throws {
        let dir = try TemporaryDirectory("safety-link")
        defer { dir.remove() }
        let source = try Fixtures.copy(Fixtures.chinook, to: dir, as: "c.sqlite")
        let store = try StoreUnderTest.make("folder", in: dir)
        #expect(try store.run(["backup", source, "--no-activity-log"]).status == 0)
        let elsewhere = dir.file("elsewhere.txt")
        try Data("precious".utf8).write(to: URL(fileURLWithPath: elsewhere))
        let link = dir.file("link.db")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: elsewhere)
        let refused = try store.run(["restore", "latest", "--into", link])
        #expect(refused.status != 0)
        #expect(refused.stderrText.contains("is a symbolic link"))
        #expect(refused.stderrText.contains("or pass --force to replace the link itself"))
        let forced = try store.run(["restore", "latest", "--into", link, "--force"])
        #expect(forced.status == 0, "\(forced.stderrText)")
        #expect(try String(contentsOfFile: elsewhere, encoding: .utf8) == "precious")
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: link)) == nil)
        #expect(try DatabaseComparison.differences(source, link).isEmpty)
    }

    @Test("a restore killed with SIGKILL leaves the old target intact; the next one removes its leftovers")
    func killedRestore() throws {
        let dir = try TemporaryDirectory("safety-kill")
        defer { dir.remove() }
        let source = dir.file("big.db")
        #expect(try ProcessRunner.run(["sqlite3", source, """
            CREATE TABLE b(id INTEGER PRIMARY KEY, data BLOB, note TEXT);
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 200000)
            INSERT INTO b SELECT i, randomblob(100), hex(randomblob(40)) FROM n;
            """]).status == 0)
        let store = try StoreUnderTest.make("folder", in: dir)
        #expect(try store.run(["backup", source, "--no-activity-log"]).status == 0)
        let target = dir.file("target.db")
        #expect(try ProcessRunner.run(["sqlite3", target, "CREATE TABLE old(x); INSERT INTO old VALUES('keep me');"]).status == 0)
        let oldBytes = try Data(contentsOf: URL(fileURLWithPath: target))
        let bin = Fixtures.backstreamBinary
        // Kill it once its temporary file exists, mid-load.
        let killed = try ProcessRunner.shell("""
            '\(bin)' restore latest --into '\(target)' --force --store '\(store.url)' & pid=$!
            for i in $(seq 1 400); do ls -a '\(dir.path)' | grep -q '^.target.db.restore-' && break; sleep 0.01; done
            kill -9 $pid; wait $pid; echo "status=$?"
            """)
        #expect(killed.stdoutText.contains("status=137"), "\(killed.stdoutText)\(killed.stderrText)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: target)) == oldBytes)
        let again = try store.run(["restore", "latest", "--into", target, "--force"])
        #expect(again.status == 0, "\(again.stderrText)")
        #expect(try DatabaseComparison.differences(source, target).isEmpty)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains(".restore-") }
        #expect(leftovers.isEmpty, "\(leftovers)")
    }
}
