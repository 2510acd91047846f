import Foundation
import Testing
import TestSupport

/// `backup --encrypt-to` and the readers' `--identity`, against the real `age` CLI in both
/// directions, and every way an encrypted object can be damaged.
@Suite("Encrypted backups")
struct EncryptedBackupTests {
    static let marker = "MARKER-c41f-customer-alice@example.com"

    /// A copy of chinook (about 1 MB: several 64 KiB age chunks once compressed) with the marker.
    static func database(in dir: TemporaryDirectory) throws -> String {
        let source = try Fixtures.copy(Fixtures.chinook, to: dir, as: "source.db")
        let sql = "CREATE TABLE secret_notes(id INTEGER PRIMARY KEY, note TEXT); INSERT INTO secret_notes(note) VALUES ('\(marker)'), ('\(marker) again');"
        #expect(try ProcessRunner.run(["sqlite3", source, sql]).status == 0)
        return source
    }

    /// A key file written by age-keygen and its public key.
    static func keygen(_ path: String) throws -> String {
        #expect(try ProcessRunner.run(["age-keygen", "-o", path]).status == 0)
        return try ProcessRunner.run(["age-keygen", "-y", path]).stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func backupKey(_ result: ProcessResult) throws -> String {
        try #require(try json(result)["key"] as? String)
    }

    @Test("a Backstream backup decrypts with age -d and restores exactly, and reads back with --identity")
    func backupDecryptsWithAge() throws {
        let dir = try TemporaryDirectory("cli-age")
        defer { dir.remove() }
        let source = try Self.database(in: dir)
        let recipient = try Self.keygen(dir.file("key.txt"))
        let second = try Self.keygen(dir.file("key2.txt"))
        try "# team keys\n\(second)\n".write(toFile: dir.file("recipients.txt"), atomically: true, encoding: .utf8)
        let store = try StoreUnderTest.make("folder", in: dir)

        let backup = try store.run(["backup", source, "--encrypt-to", recipient, "--recipients-file", dir.file("recipients.txt"), "--json"])
        #expect(backup.status == 0, "\(backup.stderrText)")
        let key = try Self.backupKey(backup)
        #expect(key.hasSuffix(".sql.gz.age"))
        let object = try store.get(key, scratch: dir)
        #expect(object.starts(with: Data("age-encryption.org/v1\n".utf8)))
        #expect(object.range(of: Data(Self.marker.utf8)) == nil)
        #expect(object.range(of: Data("secret_notes".utf8)) == nil)

        // Either recipient's key opens it with the real age CLI.
        try object.write(to: URL(fileURLWithPath: dir.file("object.age")))
        for (index, keyFile) in ["key.txt", "key2.txt"].enumerated() {
            let restored = dir.file("by-age-\(index).db")
            let pipe = try ProcessRunner.shell("age -d -i '\(dir.file(keyFile))' '\(dir.file("object.age"))' | gunzip | sqlite3 -bail '\(restored)'")
            #expect(pipe.status == 0, "\(pipe.stderrText)")
            #expect(try DatabaseComparison.differences(source, restored).isEmpty)
        }

        // The metadata names the recipients and nothing about the contents.
        let list = try store.run(["list", "--json"])
        let entry = try #require((try json(list)["backups"] as? [[String: Any]])?.first)
        let metadata = try #require(entry["metadata"] as? [String: String])
        #expect(metadata["encryption"] == "age")
        #expect(metadata["age-recipients"] == "\(recipient),\(second)")
        #expect(metadata["tables-count"] == nil && metadata["rows-count"] == nil)
        #expect(metadata["backup-size"] == String(object.count))
        #expect(!list.stdoutText.contains("AGE-SECRET-KEY"))

        let restore = try store.run(["restore", "latest", "--into", dir.file("restored.db"), "--identity", dir.file("key.txt")])
        #expect(restore.status == 0, "\(restore.stderrText)")
        #expect(try DatabaseComparison.differences(source, dir.file("restored.db")).isEmpty)

        let verify = try backstream(["verify", key, "--store", store.url],
                                    environment: store.environment.merging(["BACKSTREAM_AGE_IDENTITY": dir.file("key2.txt")]) { $1 })
        #expect(verify.status == 0, "\(verify.stdoutText)\(verify.stderrText)")

        let sql = try backstream(["restore", key, "--stdout", "--store", store.url],
                                 environment: store.environment.merging(["BACKSTREAM_AGE_IDENTITY": dir.file("key.txt")]) { $1 })
        #expect(sql.status == 0, "\(sql.stderrText)")
        #expect(sql.stdoutText.contains(Self.marker))

        // Download stays the object's bytes: nothing decrypts on the way out.
        #expect(try store.get(key, scratch: dir) == object)
    }

    @Test("dumps encrypted by age -r to one and to several recipients restore with backstream")
    func ageEncryptedDumpsRestore() throws {
        let dir = try TemporaryDirectory("cli-age-in")
        defer { dir.remove() }
        let source = try Self.database(in: dir)
        let mine = try Self.keygen(dir.file("key.txt"))
        let other = try Self.keygen(dir.file("other.txt"))
        let store = try StoreUnderTest.make("folder", in: dir)
        for (index, recipients) in [[mine], [other, mine]].enumerated() {
            let flags = recipients.map { "-r \($0)" }.joined(separator: " ")
            let made = try ProcessRunner.shell("'\(Fixtures.backstreamBinary)' dump '\(source)' --gzip | age \(flags) > '\(dir.file("dump.age"))'")
            #expect(made.status == 0, "\(made.stderrText)")
            let key = "backups/database-2026-01-0\(index + 1)-00-00-00.sql.gz.age"
            try store.put(key, bytes: try Data(contentsOf: URL(fileURLWithPath: dir.file("dump.age"))), scratch: dir)
            let target = dir.file("restored-\(index).db")
            let restore = try store.run(["restore", key, "--into", target, "--identity", dir.file("key.txt")])
            #expect(restore.status == 0, "\(restore.stderrText)")
            #expect(try DatabaseComparison.differences(source, target).isEmpty)
        }
        // Both are backups to list and to retention.
        let list = try store.run(["list", "--json"])
        #expect((try json(list)["total"] as? Int) == 2)
        let prune = try store.run(["prune", "--retention-days", "0", "--keep-last", "1", "--json"])
        #expect(prune.status == 0, "\(prune.stderrText)")
        #expect(try store.keys(scratch: dir) == ["backups/database-2026-01-02-00-00-00.sql.gz.age"])
    }

    @Test("damage, a missing or wrong identity each fail in one line and leave the target untouched")
    func damageLeavesTargetUntouched() throws {
        let dir = try TemporaryDirectory("cli-age-damage")
        defer { dir.remove() }
        let source = try Self.database(in: dir)
        let recipient = try Self.keygen(dir.file("key.txt"))
        _ = try Self.keygen(dir.file("wrong.txt"))
        let store = try StoreUnderTest.make("folder", in: dir)
        let backup = try store.run(["backup", source, "--encrypt-to", recipient, "--json", "--no-prune"])
        #expect(backup.status == 0, "\(backup.stderrText)")
        let object = try store.get(try Self.backupKey(backup), scratch: dir)

        let target = dir.file("target.db")
        #expect(try ProcessRunner.run(["sqlite3", target, "CREATE TABLE keep(x); INSERT INTO keep VALUES ('before');"]).status == 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: target))

        let sealedChunk = 65536 + 16
        let payload = try #require(object.range(of: Data("\n--- ".utf8))).upperBound + 44 + 16
        // Two whole chunks and a final one: the flip and the swap below touch only non-final chunks.
        #expect(object.count > payload + 2 * sealedChunk)
        var flipped = object
        flipped[payload + sealedChunk + 100] ^= 0x20
        var swapped = object
        swapped.replaceSubrange(payload..<payload + sealedChunk, with: object[(payload + sealedChunk)..<(payload + 2 * sealedChunk)])
        swapped.replaceSubrange((payload + sealedChunk)..<(payload + 2 * sealedChunk), with: object[payload..<(payload + sealedChunk)])
        let cases: [(String, Data, String, String)] = [
            ("flipped", flipped, "key.txt", "fails authentication"),
            ("truncated", object.prefix(payload + 2 * sealedChunk), "key.txt", "cut short"),
            ("swapped", swapped, "key.txt", "fails authentication"),
            ("wrong-identity", object, "wrong.txt", "wrong identity"),
            ("no-identity", object, "", "no identity was given"),
        ]
        for (index, (name, bytes, keyFile, reason)) in cases.enumerated() {
            let key = "backups/database-2025-06-0\(index + 1)-00-00-00.sql.gz.age"
            try store.put(key, bytes: bytes, scratch: dir)
            let identity = keyFile.isEmpty ? [] : ["--identity", dir.file(keyFile)]
            for command in [["restore", key, "--into", target, "--force"], ["verify", key]] {
                let result = try store.run(command + identity)
                #expect(result.status != 0, "\(name)")
                let lines = result.stderrText.split(separator: "\n")
                #expect(lines.count == 1 && result.stderrText.contains(reason), "\(name): \(result.stderrText)")
                #expect(!result.stderrText.contains("AGE-SECRET-KEY"))
            }
            #expect(try Data(contentsOf: URL(fileURLWithPath: target)) == before, "\(name)")
            #expect(try leftovers(dir, except: []).allSatisfy { !$0.contains(".restore-") }, "\(name)")
        }
    }
}
