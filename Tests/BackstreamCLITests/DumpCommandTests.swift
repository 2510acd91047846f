import Foundation
import Testing
import TestSupport

func backstream(_ arguments: [String], environment: [String: String]? = nil, in directory: String? = nil) throws -> ProcessResult {
    try ProcessRunner.run([Fixtures.backstreamBinary] + arguments, environment: environment, currentDirectory: directory)
}

/// Files in `dir` other than the ones a test put there on purpose.
func leftovers(_ dir: TemporaryDirectory, except kept: Set<String>) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { !kept.contains($0) }.sorted()
}

@Suite("backstream dump")
struct DumpCommandTests {
    @Test("piped to gunzip and sqlite3, and to a .gz file, the dump restores chinook")
    func pipes() throws {
        let dir = try TemporaryDirectory("cli-dump")
        defer { dir.remove() }
        let source = try Fixtures.copy(Fixtures.chinook, to: dir, as: "chinook.sqlite")
        let piped = try ProcessRunner.shell("'\(Fixtures.backstreamBinary)' dump '\(source)' --gzip | gzip -d | sqlite3 -bail '\(dir.file("a.db"))'")
        #expect(piped.status == 0, "\(piped.stderrText)")
        #expect(try DatabaseComparison.differences(source, dir.file("a.db")).isEmpty)

        let file = try backstream(["dump", source, "-o", dir.file("c.sql.gz"), "--level", "9", "--threads", "2"])
        #expect(file.status == 0, "\(file.stderrText)")
        #expect(file.stdout.isEmpty)
        let restore = try ProcessRunner.shell("gunzip -c '\(dir.file("c.sql.gz"))' | sqlite3 -bail '\(dir.file("b.db"))'")
        #expect(restore.status == 0)
        #expect(try DatabaseComparison.differences(source, dir.file("b.db")).isEmpty)
        #expect(try leftovers(dir, except: ["chinook.sqlite", "a.db", "b.db", "c.sql.gz"]).isEmpty)
    }

    @Test("at the default level the gzip dump of chinook is no larger than sqlite3 .dump | gzip -6")
    func defaultLevelSize() throws {
        let dir = try TemporaryDirectory("cli-dump-size")
        defer { dir.remove() }
        let source = try Fixtures.copy(Fixtures.chinook, to: dir, as: "chinook.sqlite")
        let ours = try ProcessRunner.shell("'\(Fixtures.backstreamBinary)' dump '\(source)' --gzip | wc -c")
        let theirs = try ProcessRunner.shell("sqlite3 '\(source)' .dump | gzip -6 | wc -c")
        let size = { (r: ProcessResult) in Int(r.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0 }
        #expect(ours.status == 0 && theirs.status == 0)
        #expect(size(ours) > 100_000 && size(ours) <= size(theirs), "\(size(ours)) vs gzip -6 \(size(theirs))")
    }

    @Test("plain SQL to standard output matches the file output")
    func stdoutMatchesFile() throws {
        let dir = try TemporaryDirectory("cli-stdout")
        defer { dir.remove() }
        let source = try Fixtures.copy(Fixtures.chinook, to: dir, as: "chinook.sqlite")
        let out = try backstream(["dump", source, "--dialect", "d1"])
        #expect(out.status == 0)
        let text = out.stdoutText
        #expect(text.contains("PRAGMA defer_foreign_keys=TRUE;"))
        #expect(text.hasSuffix("-- Backstream dump complete: 11 tables, 15607 rows.\n"))
        #expect(SQLScript.d1Violations(Array(out.stdout)).isEmpty)
    }

    @Test("bad input fails with one clear line, a non-zero exit and no output file", arguments: [
        "missing", "not-a-database", "corrupt", "locked", "unwritable-output", "bad-level",
    ])
    func badInput(_ kind: String) throws {
        let dir = try TemporaryDirectory("cli-bad")
        defer { dir.remove() }
        var database = dir.file("db.sqlite")
        var output = dir.file("out.sql.gz")
        var extra: [String] = []
        var expected = ""
        var holder: TestDatabase?
        switch kind {
        case "missing":
            database = dir.file("nope.db")
            expected = "does not exist"
        case "not-a-database":
            try Data(String(repeating: "hello, not sqlite\n", count: 500).utf8).write(to: URL(fileURLWithPath: database))
            expected = "is not a SQLite database"
        case "corrupt":
            database = try Fixtures.copy(Fixtures.chinook, to: dir, as: "db.sqlite")
            // Overwrite pages in the middle of the file (table b-tree pages) with garbage.
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: database))
            try handle.seek(toOffset: 300_000)
            try handle.write(contentsOf: Data(repeating: 0xA5, count: 200_000))
            try handle.close()
            expected = "corrupt"
        case "locked":
            database = try Fixtures.copy(Fixtures.chinook, to: dir, as: "db.sqlite")
            let db = try TestDatabase(database)
            try db.execute("PRAGMA locking_mode=EXCLUSIVE; BEGIN EXCLUSIVE; UPDATE Genre SET Name = Name;")
            holder = db
            extra = ["--busy-timeout", "300"]
            expected = "locked"
        case "unwritable-output":
            database = try Fixtures.copy(Fixtures.chinook, to: dir, as: "db.sqlite")
            output = dir.file("no/such/folder/out.sql")
            expected = "cannot create output file"
        default:
            database = try Fixtures.copy(Fixtures.chinook, to: dir, as: "db.sqlite")
            extra = ["--level", "0"]
            expected = "--level must be between 1 and 12"
        }
        let result = try backstream(["dump", database, "-o", output] + extra)
        withExtendedLifetime(holder) {}
        #expect(result.status != 0)
        let lines = result.stderrText.split(separator: "\n")
        #expect(lines.contains { $0.contains(expected) }, "stderr: \(result.stderrText)")
        if kind != "bad-level" { #expect(lines.count == 1, "stderr: \(result.stderrText)") }
        #expect(try leftovers(dir, except: ["db.sqlite", "db.sqlite-journal"]).isEmpty)
    }

    @Test("--no-source-checks leaves out the source's checks line; such a dump still restores through the store")
    func withoutSourceChecks() throws {
        let dir = try TemporaryDirectory("cli-no-checks")
        defer { dir.remove() }
        let source = try Fixtures.copy(Fixtures.chinook, to: dir, as: "chinook.sqlite")
        let checked = try backstream(["dump", source])
        let unchecked = try backstream(["dump", source, "--no-source-checks"])
        #expect(checked.status == 0 && unchecked.status == 0, "\(unchecked.stderrText)")
        #expect(checked.stdoutText.contains("\n-- source checks: foreign_key_check=0 "))
        #expect(!unchecked.stdoutText.contains("-- source checks:"))
        #expect(unchecked.stdoutText.hasSuffix("-- Backstream dump complete: 11 tables, 15607 rows.\n"))

        let store = dir.file("store")
        let upload = try ProcessRunner.shell("'\(Fixtures.backstreamBinary)' dump '\(source)' --no-source-checks --gzip | "
                                             + "'\(Fixtures.backstreamBinary)' upload backups/database-2026-01-01-00-00-00.sql.gz --store '\(store)'")
        #expect(upload.status == 0, "\(upload.stderrText)")
        let restore = try backstream(["restore", "latest", "--store", store, "--into", dir.file("r.db")])
        #expect(restore.status == 0, "\(restore.stderrText)")
        #expect(try DatabaseComparison.differences(source, dir.file("r.db")).isEmpty)
    }

    @Test("--help explains the command")
    func help() throws {
        let result = try backstream(["dump", "--help"])
        #expect(result.status == 0)
        #expect(result.stdoutText.contains("--dialect"))
        #expect(result.stdoutText.contains("consistent snapshot"))
    }
}
