import Foundation
import Testing
import TestSupport

/// zstd end to end against the real `zstd` and `sqlite3` CLIs, both directions.
@Suite("zstd dumps and backups")
struct ZstdCommandsTests {
    /// The frame count `zstd -lv` reports for `file`.
    static func frames(_ file: String) throws -> Int {
        let listing = try ProcessRunner.run(["zstd", "-lv", file])
        #expect(listing.status == 0, "\(listing.stderrText)")
        let line = listing.stdoutText.split(separator: "\n").first { $0.contains("# Zstandard Frames:") }
        return line.flatMap { Int($0.split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "") } ?? 0
    }

    static func zstd(_ text: String, in dir: TemporaryDirectory) throws -> Data {
        let plain = dir.file("plain-\(UUID().uuidString.prefix(6)).sql")
        try Data(text.utf8).write(to: URL(fileURLWithPath: plain))
        let result = try ProcessRunner.run(["zstd", "-q", "-c", plain])
        #expect(result.status == 0, "\(result.stderrText)")
        return result.stdout
    }

    /// A dump without its `-- created:` header line: two runs of the same dump differ only there.
    static func timeless(_ dump: Data) -> [Substring] {
        String(decoding: dump, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("-- created:") }
    }

    @Test("a zstd dump, piped or to a .zst file, is one frame that zstd -d and sqlite3 restore exactly")
    func dump() throws {
        let dir = try TemporaryDirectory("zstd-dump")
        defer { dir.remove() }
        let source = try Fixtures.copy(Fixtures.chinook, to: dir, as: "chinook.sqlite")
        let piped = try ProcessRunner.shell("'\(Fixtures.backstreamBinary)' dump '\(source)' --compression zstd | zstd -d | sqlite3 -bail '\(dir.file("a.db"))'")
        #expect(piped.status == 0, "\(piped.stderrText)")
        #expect(try DatabaseComparison.differences(source, dir.file("a.db")).isEmpty)

        // The name picks zstd; --level and --threads apply to it.
        let file = try backstream(["dump", source, "-o", dir.file("c.sql.zst"), "--level", "19", "--threads", "2"])
        #expect(file.status == 0, "\(file.stderrText)")
        #expect(try Self.frames(dir.file("c.sql.zst")) == 1)
        let restore = try ProcessRunner.shell("zstd -dc '\(dir.file("c.sql.zst"))' | sqlite3 -bail '\(dir.file("b.db"))'")
        #expect(restore.status == 0, "\(restore.stderrText)")
        #expect(try DatabaseComparison.differences(source, dir.file("b.db")).isEmpty)

        // Same SQL as the plain dump, byte for byte.
        let plain = try backstream(["dump", source])
        let unpacked = try ProcessRunner.run(["zstd", "-dc", dir.file("c.sql.zst")])
        #expect(Self.timeless(unpacked.stdout) == Self.timeless(plain.stdout))
        // --gzip keeps working as before.
        let gzip = try ProcessRunner.shell("'\(Fixtures.backstreamBinary)' dump '\(source)' --gzip | gunzip | grep -v '^-- created:' | cmp - <('\(Fixtures.backstreamBinary)' dump '\(source)' | grep -v '^-- created:')")
        #expect(gzip.status == 0, "\(gzip.stderrText)\(gzip.stdoutText)")
    }

    @Test("bad --compression values and levels fail with one clear line", arguments: [
        (["--compression", "lzma"], "--compression"),
        (["--compression", "zstd", "--level", "20"], "--level must be between 1 and 19 for zstd"),
        (["--compression", "zstd", "--level", "0"], "--level must be between 1 and 19 for zstd"),
        (["--compression", "gzip", "--level", "13"], "--level must be between 1 and 12 for gzip"),
        (["--gzip", "--compression", "zstd"], "--gzip and --compression zstd disagree"),
    ])
    func badValues(_ extra: [String], _ expected: String) throws {
        let dir = try TemporaryDirectory("zstd-bad")
        defer { dir.remove() }
        let source = try Fixtures.copy(Fixtures.chinook, to: dir, as: "c.sqlite")
        let commands: [[String]] = extra.contains("--gzip") ? [["dump", source]]
            : [["dump", source], ["backup", source, "--store", dir.file("store")], ["serve", source, "--store", dir.file("store")]]
        for command in commands {
            let result = try backstream(command + extra)
            #expect(result.status != 0, "\(command[0])")
            #expect(result.stderrText.contains(expected), "\(command[0]): \(result.stderrText)")
            #expect(result.stdout.isEmpty)
        }
        #expect(try leftovers(dir, except: ["c.sqlite"]).isEmpty)
    }

    @Test("a zstd backup is a .sql.zst object that zstd -d restores, and that list, verify, restore and prune handle",
          arguments: ["folder", "s3"])
    func backup(_ kind: String) throws {
        let dir = try TemporaryDirectory("zstd-backup-\(kind)")
        defer { dir.remove() }
        let store = try StoreUnderTest.make(kind, in: dir)
        let source = try Fixtures.copy(Fixtures.chinook, to: dir, as: "c.sqlite")
        let backup = try store.run(["backup", source, "--compression", "zstd", "--json", "--no-activity-log"])
        #expect(backup.status == 0, "\(backup.stderrText)")
        let made = try json(backup)
        let key = made["key"] as? String ?? ""
        #expect(key.hasPrefix("backups/database-") && key.hasSuffix(".sql.zst"))
        let recorded = made["metadata"] as? [String: String] ?? [:]
        #expect(recorded["compression"] == "zstd")

        let object = try store.get(key, scratch: dir)
        try object.write(to: URL(fileURLWithPath: dir.file("object.sql.zst")))
        #expect(try Self.frames(dir.file("object.sql.zst")) == 1)
        let unpacked = try ProcessRunner.run(["zstd", "-dc", dir.file("object.sql.zst")])
        #expect(unpacked.status == 0)
        let crc = try ProcessRunner.shell("zstd -dc '\(dir.file("object.sql.zst"))' | python3 -c 'import zlib,sys; print(zlib.crc32(sys.stdin.buffer.read()))'")
        #expect(crc.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == recorded["content-crc32"])
        #expect(try ProcessRunner.shell("zstd -dc '\(dir.file("object.sql.zst"))' | sqlite3 -bail '\(dir.file("z.db"))'").status == 0)
        #expect(try DatabaseComparison.differences(source, dir.file("z.db")).isEmpty)

        let list = try json(try store.run(["list", "--json"]))
        let listed = (list["backups"] as? [[String: Any]])?.first ?? [:]
        #expect(list["total"] as? Int == 1)
        #expect(listed["key"] as? String == key)
        #expect((listed["metadata"] as? [String: String])?["compression"] == "zstd")

        let verify = try store.run(["verify", "latest"])
        #expect(verify.status == 0, "\(verify.stdoutText)\(verify.stderrText)")
        let restore = try store.run(["restore", key, "--into", dir.file("r.db")])
        #expect(restore.status == 0, "\(restore.stderrText)")
        #expect(try DatabaseComparison.differences(source, dir.file("r.db")).isEmpty)
        let sql = try store.run(["restore", "latest", "--stdout"])
        #expect(sql.status == 0, "\(sql.stderrText)")
        #expect(sql.stdout == unpacked.stdout)

        // A gzip backup beside it, then retention: .zst keys are backups like .sql.gz ones.
        let old = "backups/database-2020-01-01-00-00-00.sql.zst"
        try store.put(old, bytes: object, scratch: dir)
        #expect(try json(try store.run(["list", "--json"]))["total"] as? Int == 2)
        let pruned = try json(try store.run(["prune", "--keep-last", "1", "--json"]))
        #expect(pruned["deleted"] as? [String] == [old])
        #expect(try store.keys(scratch: dir) == [key])
    }

    @Test("--compression none backs up plain SQL to a .sql key that verifies and restores")
    func uncompressedBackup() throws {
        let dir = try TemporaryDirectory("none-backup")
        defer { dir.remove() }
        let store = try StoreUnderTest.make("folder", in: dir)
        let source = try Fixtures.copy(Fixtures.chinook, to: dir, as: "c.sqlite")
        let backup = try store.run(["backup", source, "--compression", "none", "--json", "--no-activity-log"])
        #expect(backup.status == 0, "\(backup.stderrText)")
        let made = try json(backup)
        let key = made["key"] as? String ?? ""
        #expect(key.range(of: #"database-[0-9-]+\.sql$"#, options: .regularExpression) != nil, "\(key)")
        #expect((made["metadata"] as? [String: String])?["compression"] == "none")
        // Plain SQL that sqlite3 reads as it is.
        #expect(try ProcessRunner.shell("sqlite3 -bail '\(dir.file("s.db"))' < '\(dir.file("store/\(key)"))'").status == 0)
        #expect(try DatabaseComparison.differences(source, dir.file("s.db")).isEmpty)
        #expect(try store.run(["verify", key]).status == 0)
        #expect(try store.run(["restore", key, "--into", dir.file("r.db")]).status == 0)
        #expect(try DatabaseComparison.differences(source, dir.file("r.db")).isEmpty)
    }

    @Test("a sqlite3 .dump piped through zstd restores with --allow-foreign")
    func foreignZstd() throws {
        let dir = try TemporaryDirectory("zstd-foreign")
        defer { dir.remove() }
        let source = try Fixtures.copy(Fixtures.chinook, to: dir, as: "c.sqlite")
        let store = try StoreUnderTest.make("folder", in: dir)
        let key = "backups/database-2026-01-01-00-00-00.sql.zst"
        let made = try ProcessRunner.shell("sqlite3 '\(source)' .dump | zstd -q -c")
        #expect(made.status == 0)
        try store.put(key, bytes: made.stdout, scratch: dir)
        let restore = try store.run(["restore", key, "--into", dir.file("r.db"), "--allow-foreign"])
        #expect(restore.status == 0, "\(restore.stderrText)")
        #expect(try DatabaseComparison.differences(source, dir.file("r.db")).isEmpty)
    }

    @Test("restore and verify go by the magic bytes: a zstd object under .sql.gz and gzip or plain SQL under .sql.zst restore")
    func misnamed() throws {
        let dir = try TemporaryDirectory("zstd-misnamed")
        defer { dir.remove() }
        let source = try Fixtures.copy(Fixtures.chinook, to: dir, as: "c.sqlite")
        let store = try StoreUnderTest.make("folder", in: dir)
        let sql = try backstream(["dump", source]).stdout
        let zstd = try backstream(["dump", source, "--compression", "zstd"]).stdout
        let gzip = try backstream(["dump", source, "--gzip"]).stdout
        let cases = [("database-2026-01-01-00-00-01.sql.gz", zstd), ("database-2026-01-01-00-00-02.sql.zst", gzip),
                     ("database-2026-01-01-00-00-03.sql.zst", sql), ("database-2026-01-01-00-00-04.sql", zstd)]
        for (name, bytes) in cases {
            let key = "backups/" + name
            try store.put(key, bytes: bytes, scratch: dir)
            let verify = try store.run(["verify", key])
            #expect(verify.status == 0, "\(name): \(verify.stdoutText)\(verify.stderrText)")
            let target = dir.file("\(name).db")
            let restore = try store.run(["restore", key, "--into", target])
            #expect(restore.status == 0, "\(name): \(restore.stderrText)")
            #expect(try DatabaseComparison.differences(source, target).isEmpty)
            let out = try store.run(["restore", key, "--stdout"])
            #expect(Self.timeless(out.stdout) == Self.timeless(sql), "\(name)")
        }
    }

    @Test("a truncated or damaged zstd backup fails verify and restore, naming the stage", arguments: ["truncate", "flip"])
    func damaged(_ damage: String) throws {
        let dir = try TemporaryDirectory("zstd-damaged-\(damage)")
        defer { dir.remove() }
        let source = try Fixtures.copy(Fixtures.chinook, to: dir, as: "c.sqlite")
        let store = try StoreUnderTest.make("folder", in: dir)
        let backup = try store.run(["backup", source, "--compression", "zstd", "--json", "--no-activity-log"])
        let key = try json(backup)["key"] as? String ?? ""
        var bytes = try store.get(key, scratch: dir)
        if damage == "flip" {
            bytes[bytes.count / 2] ^= 0x20
        } else {
            bytes = bytes.prefix(bytes.count * 2 / 3)
        }
        try store.put(key, bytes: bytes, scratch: dir)
        let expected = damage == "flip" ? "decompressing zstd: \(key) is not valid zstd" : "decompressing zstd: \(key) ends in the middle of its zstd data"
        for arguments in [["verify", key], ["restore", key, "--into", dir.file("r.db")], ["restore", key, "--stdout"]] {
            let run = try store.run(arguments)
            #expect(run.status != 0, "\(arguments)")
            #expect(run.stderrText.contains(expected), "\(arguments): \(run.stderrText)")
            #expect(run.stderrText.split(separator: "\n").count == 1, "\(run.stderrText)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir.file("r.db")))
    }
}
