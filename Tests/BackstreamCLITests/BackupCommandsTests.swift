import Foundation
import Testing
import TestSupport

/// A store the CLI writes to: a local folder, or a bucket on the test moto_server.
struct StoreUnderTest {
    let url: String
    let environment: [String: String]
    let s3: S3TestServer?
    let bucket: String?
    let folder: String?

    static func make(_ kind: String, in dir: TemporaryDirectory) throws -> StoreUnderTest {
        if kind == "s3" {
            let server = try S3TestServer()
            let bucket = try server.makeBucket("bk")
            return StoreUnderTest(url: "s3://\(bucket)/backups/", environment: server.environment, s3: server, bucket: bucket, folder: nil)
        }
        let folder = dir.file("store")
        return StoreUnderTest(url: folder, environment: ["BACKSTREAM_STORE": ""], s3: nil, bucket: nil, folder: folder)
    }

    func run(_ arguments: [String], in directory: String? = nil) throws -> ProcessResult {
        try backstream(arguments + ["--store", url], environment: environment, in: directory)
    }

    /// Places `bytes` at `key` with a real client (aws) or as a file.
    func put(_ key: String, bytes: Data, scratch: TemporaryDirectory) throws {
        if let s3, let bucket {
            let file = scratch.file("upload-\(UUID().uuidString.prefix(6))")
            try bytes.write(to: URL(fileURLWithPath: file))
            let result = try s3.aws(["s3api", "put-object", "--bucket", bucket, "--key", key, "--body", file])
            #expect(result.status == 0, "\(result.stderrText)")
        } else if let folder {
            let path = "\(folder)/\(key)"
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try bytes.write(to: URL(fileURLWithPath: path))
        }
    }

    func get(_ key: String, scratch: TemporaryDirectory) throws -> Data {
        if let s3, let bucket {
            let file = scratch.file("download-\(UUID().uuidString.prefix(6))")
            let result = try s3.aws(["s3api", "get-object", "--bucket", bucket, "--key", key, file])
            #expect(result.status == 0, "\(result.stderrText)")
            return try Data(contentsOf: URL(fileURLWithPath: file))
        }
        return try Data(contentsOf: URL(fileURLWithPath: "\(folder ?? "")/\(key)"))
    }

    func keys(scratch: TemporaryDirectory) throws -> [String] {
        if let s3, let bucket {
            let result = try s3.aws(["s3api", "list-objects-v2", "--bucket", bucket, "--query", "Contents[].Key", "--output", "text"])
            return result.stdoutText.split(whereSeparator: { $0 == "\t" || $0 == "\n" }).map(String.init).filter { $0 != "None" }.sorted()
        }
        guard let folder, let enumerator = FileManager.default.enumerator(atPath: folder) else { return [] }
        return enumerator.compactMap { $0 as? String }.filter { path in
            var isDir: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: "\(folder)/\(path)", isDirectory: &isDir)
            return !isDir.boolValue && !path.hasSuffix(".meta.json")
        }.sorted()
    }
}

func json(_ result: ProcessResult) throws -> [String: Any] {
    let object = try JSONSerialization.jsonObject(with: result.stdout)
    guard let dictionary = object as? [String: Any] else { throw TestDatabaseError(description: "not a JSON object: \(result.stdoutText)") }
    return dictionary
}

/// Chinook plus the guide's activity_log table.
func portalCopy(_ dir: TemporaryDirectory) throws -> String {
    let path = try Fixtures.copy(Fixtures.chinook, to: dir, as: "portal.db")
    try TestDatabase(path).execute("""
        CREATE TABLE activity_log(id INTEGER PRIMARY KEY AUTOINCREMENT, user_id TEXT, action TEXT NOT NULL,
                                  details TEXT, created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP);
        """)
    return path
}

@Suite("backup, list, verify, restore, prune")
struct BackupCommandsTests {
    @Test("a backup lists, verifies and restores to an identical database", arguments: ["folder", "s3"])
    func roundTrip(_ kind: String) throws {
        let dir = try TemporaryDirectory("e2e-\(kind)")
        defer { dir.remove() }
        let store = try StoreUnderTest.make(kind, in: dir)
        let source = try portalCopy(dir)
        let snapshot = dir.file("snapshot.db")
        try FileManager.default.copyItem(atPath: source, toPath: snapshot)

        let backup = try store.run(["backup", source, "--json"])
        #expect(backup.status == 0, "\(backup.stderrText)")
        let made = try json(backup)
        let key = made["key"] as? String ?? ""
        #expect(key.hasPrefix("backups/database-") && key.hasSuffix(".sql.gz"))

        let list = try store.run(["list", "--json"])
        #expect(list.status == 0, "\(list.stderrText)")
        let listing = try json(list)
        #expect(listing["total"] as? Int == 1)
        let first = (listing["backups"] as? [[String: Any]])?.first ?? [:]
        #expect(Set(first.keys) == ["key", "uploaded", "size", "size_kb", "size_mb", "metadata"])
        #expect(first["key"] as? String == key)
        let size = first["size"] as? Int ?? -1
        #expect(first["size_kb"] as? String == String(format: "%.2f", Double(size) / 1024))
        let metadata = first["metadata"] as? [String: String] ?? [:]
        #expect(metadata["backup-size"] == String(size))
        #expect(metadata["tables-count"] == "12")
        #expect(metadata["rows-count"] == "15607")
        #expect(metadata["backup-timestamp"]?.hasSuffix("Z") == true)
        #expect(metadata["content-crc32"] != nil)

        // The stored object is plain gzip that a real client reads back.
        let object = try store.get(key, scratch: dir)
        #expect(object.count == size)
        try object.write(to: URL(fileURLWithPath: dir.file("object.sql.gz")))
        #expect(try ProcessRunner.shell("gunzip -c '\(dir.file("object.sql.gz"))' | sqlite3 -bail '\(dir.file("gunzipped.db"))'").status == 0)
        #expect(try DatabaseComparison.differences(snapshot, dir.file("gunzipped.db")).isEmpty)
        if let s3 = store.s3, let bucket = store.bucket {
            let head = try s3.aws(["s3api", "head-object", "--bucket", bucket, "--key", key])
            #expect(head.stdoutText.contains("\"backup-size\": \"\(size)\""), "\(head.stdoutText)")
        }

        let verify = try store.run(["verify", "latest"])
        #expect(verify.status == 0, "\(verify.stdoutText)\(verify.stderrText)")
        #expect(verify.stdoutText.contains("OK"))

        let restored = dir.file("restored.db")
        let restore = try store.run(["restore", "latest", "--into", restored])
        #expect(restore.status == 0, "\(restore.stderrText)")
        #expect(try DatabaseComparison.differences(snapshot, restored).isEmpty)
        let again = try store.run(["restore", key, "--into", restored])
        #expect(again.status != 0)
        #expect(again.stderrText.contains("--force"))
        #expect(try store.run(["restore", key, "--into", restored, "--force"]).status == 0)

        let sql = try store.run(["restore", "latest", "--stdout"])
        #expect(sql.status == 0)
        #expect(sql.stdoutText.hasSuffix("-- Backstream dump complete: 12 tables, 15607 rows.\n"))

        let log = try TestDatabase(source).strings("SELECT action FROM activity_log ORDER BY id")
        #expect(log == ["database_backup_created", "backups_cleaned_up"])
    }

    @Test("prune deletes only expired backups of the naming pattern and keeps the newest", arguments: ["folder", "s3"])
    func prune(_ kind: String) throws {
        let dir = try TemporaryDirectory("prune-\(kind)")
        defer { dir.remove() }
        let store = try StoreUnderTest.make(kind, in: dir)
        let body = Data("not really gzip".utf8)
        let old = (1...5).map { "backups/database-2020-01-0\($0)-02-00-00.sql.gz" }
        let unrelated = ["backups/notes.txt", "backups/database-notes.sql.gz", "backups/2020/database-2020-01-01-00-00-00.sql.gz",
                         "documents/database-2020-01-01-00-00-00.sql.gz", "backups/database-2019-12-31-02-00-00.sql.gz.bak"]
        for key in old + unrelated { try store.put(key, bytes: body, scratch: dir) }
        let legacy = "backups/database-2019-06-01-02-00-00.sql"
        try store.put(legacy, bytes: body, scratch: dir)

        let dry = try store.run(["prune", "--dry-run", "--keep-last", "2", "--json"])
        #expect(dry.status == 0, "\(dry.stderrText)")
        #expect(try json(dry)["deleted_count"] as? Int == 4)
        #expect(try store.keys(scratch: dir).count == old.count + unrelated.count + 1)

        let pruned = try store.run(["prune", "--keep-last", "2", "--json"])
        #expect(pruned.status == 0, "\(pruned.stderrText)")
        let answer = try json(pruned)
        #expect(answer["success"] as? Bool == true)
        #expect(answer["deleted_count"] as? Int == 4)
        let survivors = Set(try store.keys(scratch: dir))
        #expect(survivors == Set(unrelated + [old[3], old[4]]))

        // Everything past retention: the newest --keep-last still survive.
        let all = try store.run(["prune", "--keep-last", "1", "--retention-days", "0", "--json"])
        #expect(try json(all)["deleted_count"] as? Int == 1)
        #expect(Set(try store.keys(scratch: dir)) == Set(unrelated + [old[4]]))
    }

    @Test("a damaged backup fails verify and restore and leaves the target untouched", arguments: ["flip", "truncate"])
    func damaged(_ damage: String) throws {
        let dir = try TemporaryDirectory("damaged-\(damage)")
        defer { dir.remove() }
        let store = try StoreUnderTest.make("s3", in: dir)
        let source = try portalCopy(dir)
        let backup = try store.run(["backup", source, "--json", "--no-activity-log"])
        #expect(backup.status == 0, "\(backup.stderrText)")
        let key = try json(backup)["key"] as? String ?? ""
        var bytes = try store.get(key, scratch: dir)
        if damage == "flip" {
            bytes[bytes.count / 2] ^= 0x20
        } else {
            bytes = bytes.prefix(bytes.count * 2 / 3)
        }
        try store.put(key, bytes: bytes, scratch: dir)

        let verify = try store.run(["verify", key])
        #expect(verify.status != 0)
        let target = dir.file("target.db")
        try TestDatabase(target).execute("CREATE TABLE precious(v); INSERT INTO precious VALUES('keep me');")
        let before = try Data(contentsOf: URL(fileURLWithPath: target))
        let restore = try store.run(["restore", key, "--into", target, "--force"])
        #expect(restore.status != 0)
        #expect(restore.stderrText.split(separator: "\n").count == 1, "\(restore.stderrText)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: target)) == before)
        #expect(try leftovers(dir, except: ["portal.db", "target.db", "portal.db.backstream-lock"]).allSatisfy { $0.hasPrefix("download-") || $0.hasPrefix("upload-") })
    }

    @Test("a backup taken while another process writes restores consistently")
    func concurrentWriter() throws {
        let dir = try TemporaryDirectory("busy")
        defer { dir.remove() }
        let store = try StoreUnderTest.make("folder", in: dir)
        let source = dir.file("live.db")
        try TestDatabase(source).execute("""
            PRAGMA journal_mode=WAL;
            CREATE TABLE orders(id INTEGER PRIMARY KEY, note TEXT);
            CREATE TABLE lines(id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL REFERENCES orders(id), qty INTEGER);
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)
            INSERT INTO orders SELECT i, printf('order %d with some text', i) FROM n;
            INSERT INTO lines SELECT id, id, id % 7 FROM orders;
            """)
        let writer = Process()
        writer.executableURL = URL(fileURLWithPath: "/bin/bash")
        writer.arguments = ["-c", """
            for i in $(seq 1 400); do
              sqlite3 '\(source)' "PRAGMA busy_timeout=2000; BEGIN IMMEDIATE; INSERT INTO orders(note) VALUES('late $i'); INSERT INTO lines(order_id, qty) VALUES(last_insert_rowid(), 1); DELETE FROM lines WHERE id = $i; DELETE FROM orders WHERE id = $i; COMMIT;" || exit 1
            done
            """]
        try writer.run()
        let backup = try store.run(["backup", source, "--json"])
        writer.waitUntilExit()
        #expect(backup.status == 0, "\(backup.stderrText)")
        let restored = dir.file("restored.db")
        #expect(try store.run(["restore", "latest", "--into", restored]).status == 0)
        let db = try TestDatabase(restored, readOnly: true)
        #expect(try db.strings("PRAGMA integrity_check") == ["ok"])
        #expect(try db.query("PRAGMA foreign_key_check").isEmpty)
        #expect(try db.scalarInt("SELECT count(*) FROM orders") == db.scalarInt("SELECT count(*) FROM lines"))
    }

    @Test("SIGTERM during an upload aborts it: no object, no pending multipart upload")
    func interrupted() throws {
        let dir = try TemporaryDirectory("sigterm")
        defer { dir.remove() }
        let store = try StoreUnderTest.make("s3", in: dir)
        guard let s3 = store.s3, let bucket = store.bucket else { return }
        let (process, uploading) = try SlowUpload.start(server: s3, bucket: bucket, store: store.url, in: dir)
        #expect(uploading, "the backup should still be uploading when it is interrupted")
        process.terminate()
        process.waitUntilExit()
        #expect(process.terminationStatus == 143)  // SIGTERM exits 128 + 15 (issue 10)
        let pending = try s3.pendingUploads(bucket)
        #expect(!pending.stdoutText.contains("database-"), "\(pending.stdoutText)")
        #expect(try store.keys(scratch: dir).isEmpty)
    }

    @Test("backups in the same second get distinct keys, and a second backup of a locked database fails clearly")
    func sameSecondAndLocking() throws {
        let dir = try TemporaryDirectory("lock")
        defer { dir.remove() }
        let store = try StoreUnderTest.make("folder", in: dir)
        let source = try Fixtures.copy(Fixtures.chinook, to: dir, as: "c.db")
        let first = try store.run(["backup", source, "--json", "--no-prune"])
        let second = try store.run(["backup", source, "--json", "--no-prune"])
        #expect(first.status == 0 && second.status == 0)
        let keys = [try json(first)["key"] as? String, try json(second)["key"] as? String]
        #expect(keys[0] != nil && keys[0] != keys[1])
        #expect(try store.keys(scratch: dir).count == 2)

        // Another process holding the backup lock: the CLI refuses instead of interleaving.
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/flock")
        holder.arguments = ["-o", source + ".backstream-lock", "sleep", "5"]
        try holder.run()
        Thread.sleep(forTimeInterval: 0.5)
        let blocked = try store.run(["backup", source])
        holder.terminate()
        holder.waitUntilExit()
        #expect(blocked.status != 0)
        #expect(blocked.stderrText.contains("another backup of"), "\(blocked.stderrText)")
        #expect(try store.keys(scratch: dir).count == 2)
    }

    @Test("upload streams a pipe to one object that a real client reads back", arguments: ["folder", "s3"])
    func upload(_ kind: String) throws {
        let dir = try TemporaryDirectory("upload-\(kind)")
        defer { dir.remove() }
        let store = try StoreUnderTest.make(kind, in: dir)
        let source = try Fixtures.copy(Fixtures.chinook, to: dir, as: "c.db")
        let env = store.environment.map { "\($0.key)='\($0.value)'" }.joined(separator: " ")
        let bin = Fixtures.backstreamBinary
        // 20 MiB of random bytes after the dump: five parts of the default 5 MiB.
        let result = try ProcessRunner.shell("""
            ( '\(bin)' dump '\(source)' --gzip; head -c 20971520 /dev/urandom ) > '\(dir.file("expected"))'
            env \(env) '\(bin)' upload manual/c.bin --store '\(store.url.replacingOccurrences(of: "backups/", with: ""))' < '\(dir.file("expected"))'
            """)
        #expect(result.status == 0, "\(result.stderrText)")
        let stored = try store.get("manual/c.bin", scratch: dir)
        #expect(stored == (try Data(contentsOf: URL(fileURLWithPath: dir.file("expected")))))
    }

    @Test("long transfers show progress on a terminal's stderr and nothing on a pipe")
    func progressLines() throws {
        let dir = try TemporaryDirectory("progress")
        defer { dir.remove() }
        let source = try Fixtures.copy(Fixtures.chinook, to: dir, as: "c.db")
        let bin = Fixtures.backstreamBinary
        let store = dir.file("store")
        // `script` runs the command on a pseudo-terminal, as a person at a shell would.
        let result = try ProcessRunner.shell("""
            head -c 3000000 /dev/urandom > '\(dir.file("blob"))'
            script -qec "'\(bin)' upload blob.bin '\(dir.file("blob"))' --store '\(store)' && \
                '\(bin)' backup '\(source)' --store '\(store)/' --no-activity-log && \
                '\(bin)' restore latest --into '\(dir.file("r.db"))' --store '\(store)/'" /dev/null
            """)
        #expect(result.status == 0, "\(result.stderrText)")
        let terminal = String(decoding: result.stdout, as: UTF8.self)
        #expect(terminal.contains("uploading: 2.9 MiB of 2.9 MiB (100%)"))
        #expect(terminal.contains("restoring: downloaded"))
        #expect(terminal.contains("restored backups/database-"))

        let piped = try ProcessRunner.shell("""
            '\(bin)' upload again.bin '\(dir.file("blob"))' --store '\(store)'
            """)
        #expect(piped.status == 0 && piped.stderrText.isEmpty, "\(piped.stderrText)")
    }

    @Test("verify reports foreign-key violations reproduced from the source, and row counts that differ from the dump header")
    func verifyReportsWhatTheChecksFind() throws {
        let dir = try TemporaryDirectory("verify-checks")
        defer { dir.remove() }
        let source = dir.file("orphans.db")
        // SQLite does not enforce foreign keys unless asked: the source holds an orphan row.
        try TestDatabase(source).execute("""
            CREATE TABLE parent(id INTEGER PRIMARY KEY);
            CREATE TABLE child(id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id));
            INSERT INTO parent VALUES (1);
            INSERT INTO child VALUES (1, 1), (2, 99);
            """)
        let bin = Fixtures.backstreamBinary
        let store = dir.file("store")
        // A backup whose header promises one parent row more than its INSERTs hold.
        let result = try ProcessRunner.shell("""
            mkdir -p '\(store)/backups'
            '\(bin)' dump '\(source)' | sed 's/^-- table: 1 "parent"$/-- table: 2 "parent"/' \
                | gzip > '\(store)/backups/database-2024-01-15-02-00-00.sql.gz'
            '\(bin)' verify latest --json --store '\(store)/'
            """)
        #expect(result.status == 1, "\(result.stderrText)")
        let report = try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
        #expect(report["ok"] as? Bool == false)
        #expect(report["foreign_key_violations"] as? Int == 1)
        #expect(report["integrity_check"] as? String == "ok")
        let problems = report["problems"] as? [String] ?? []
        // The source's own violation, recorded at backup time and reproduced, is a note, not a problem.
        #expect(!problems.contains { $0.contains("foreign key") }, "\(problems)")
        let notes = report["notes"] as? [String] ?? []
        #expect(notes.contains("the source had 1 foreign key violations at backup time; the restored database reproduces exactly the same ones"), "\(notes)")
        #expect(problems.contains("table parent has 1 rows, the dump header says 2"), "\(problems)")
        let tables = report["tables"] as? [[String: Any]] ?? []
        #expect(tables.map { $0["name"] as? String } == ["parent", "child"])
        #expect(tables.map { $0["actual"] as? Int } == [1, 2])
    }
}
