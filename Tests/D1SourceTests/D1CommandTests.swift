import Foundation
import Testing
import TestSupport

/// `backstream dump` and `backup` with a `d1://` source, as a user runs them.
@Suite("D1 sources on the command line")
struct D1CommandTests {
    private static func served(_ label: String, arguments: [String] = []) throws -> (TemporaryDirectory, D1Emulator) {
        let dir = try TemporaryDirectory("d1-cli-\(label)")
        let reference = dir.file("reference.db")
        try TestDatabase(reference).execute("""
            CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT, big INTEGER);
            INSERT INTO t(v, big) VALUES ('a', 9223372036854775807), ('b', -9007199254740993);
            """)
        try D1Emulator.place(reference, in: dir.file("d1"), as: "app")
        return (dir, try D1Emulator(folder: dir.file("d1"), arguments: arguments))
    }

    @Test("a d1:// entry of a fleet file is backed up by serve --config like a file, by name")
    func fleetEntry() async throws {
        let (dir, emulator) = try Self.served("fleet")
        defer { emulator.stop(); dir.remove() }
        let local = dir.file("local.db")
        try TestDatabase(local).execute("CREATE TABLE n(x); INSERT INTO n VALUES (1);")
        let config = dir.file("fleet.toml")
        try """
            store = "\(dir.file("store"))"
            schedule = "off"
            [[database]]
            path = "\(local)"
            [[database]]
            name = "edge"
            d1 = "d1://\(D1Emulator.account)/app"
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let port = try ProcessRunner.run(["python3", "-c", "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])"])
            .stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        let serve = Process()
        serve.executableURL = URL(fileURLWithPath: Fixtures.backstreamBinary)
        serve.arguments = ["serve", "--config", config, "--port", port]
        serve.environment = ProcessInfo.processInfo.environment.merging(emulator.environment()) { $1 }
            .merging(["BACKSTREAM_ADMIN_TOKENS": "fleet-admin-token", "BACKSTREAM_STORE": ""]) { $1 }
        serve.standardOutput = FileHandle.nullDevice
        serve.standardError = FileHandle.nullDevice
        try serve.run()
        defer { serve.terminate() }
        let base = "http://127.0.0.1:\(port)"
        for _ in 0..<100 {
            if try ProcessRunner.run(["curl", "-sf", base + "/healthz"]).status == 0 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let created = try ProcessRunner.run(["curl", "-s", "-X", "POST", "-H", "Authorization: Bearer fleet-admin-token",
                                             base + "/api/admin/databases/edge/backup"])
        let answer = try #require(try JSONSerialization.jsonObject(with: Data(created.stdoutText.utf8)) as? [String: Any],
                                  "\(created.stdoutText) \(created.stderrText)")
        let key = try #require(answer["key"] as? String, "\(answer)")
        #expect(key.hasPrefix("backups/edge/database-"))
        let restored = dir.file("restored.db")
        let restore = try ProcessRunner.run([Fixtures.backstreamBinary, "restore", key, "--store", dir.file("store"), "--into", restored])
        #expect(restore.status == 0, "\(restore.stderrText)")
        #expect(try TestDatabase(restored).strings("SELECT CAST(big AS TEXT) FROM t ORDER BY id") == ["9223372036854775807", "-9007199254740993"])
    }

    @Test("a wrong token is one line naming D1 and the cause, never the token")
    func wrongToken() throws {
        let (dir, emulator) = try Self.served("token")
        defer { emulator.stop(); dir.remove() }
        let secret = "wrong-secret-token-123"
        let result = try ProcessRunner.run([Fixtures.backstreamBinary, "dump", "d1:///app", "-o", dir.file("x.sql")],
                                           environment: emulator.environment(token: secret))
        #expect(result.status != 0)
        let lines = result.stderrText.split(separator: "\n")
        #expect(lines.count == 1, "\(result.stderrText)")
        #expect(result.stderrText.contains("D1") && result.stderrText.contains("Authentication error"))
        #expect(!result.stderrText.contains(secret))
        #expect(!FileManager.default.fileExists(atPath: dir.file("x.sql")))
    }

    @Test("dump d1:///NAME takes the account from the environment and keeps 64-bit integers")
    func dumpByName() throws {
        let (dir, emulator) = try Self.served("dump")
        defer { emulator.stop(); dir.remove() }
        let result = try ProcessRunner.run([Fixtures.backstreamBinary, "dump", "d1:///app", "-o", dir.file("d.sql")],
                                           environment: emulator.environment())
        #expect(result.status == 0, "\(result.stderrText)")
        let restored = dir.file("r.db")
        #expect(try ProcessRunner.run(["sqlite3", "-bail", restored], stdinFile: dir.file("d.sql")).status == 0)
        #expect(try TestDatabase(restored).strings("SELECT CAST(big AS TEXT) FROM t ORDER BY id") == ["9223372036854775807", "-9007199254740993"])
        #expect(try TestDatabase(restored).strings("SELECT CAST(count(*) AS TEXT) FROM sqlite_schema WHERE name LIKE '\\_cf%' ESCAPE '\\'") == ["0"])
    }

    @Test("backup records the bookmark in the metadata, and --allow-changes that the dump is not one snapshot")
    func backupMetadata() throws {
        let (dir, emulator) = try Self.served("backup", arguments: [
            "--write-after", "2", "--write-repeat", "--write-sql", "INSERT INTO t(v) VALUES ('during')",
        ])
        defer { emulator.stop(); dir.remove() }
        let store = dir.file("store")
        let failed = try ProcessRunner.run([Fixtures.backstreamBinary, "backup", "d1://\(D1Emulator.account)/app", "--store", store, "--json"],
                                           environment: emulator.environment())
        #expect(failed.status != 0)
        #expect(failed.stderrText.contains("changed while it was read"), "\(failed.stderrText)")

        let result = try ProcessRunner.run([Fixtures.backstreamBinary, "backup", "d1://\(D1Emulator.account)/app", "--store", store,
                                            "--json", "--allow-changes"], environment: emulator.environment())
        #expect(result.status == 0, "\(result.stderrText)")
        let json = try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
        let metadata = try #require(json["metadata"] as? [String: String])
        #expect(metadata["d1-bookmark"]?.isEmpty == false)
        #expect(metadata["d1-consistent"] == "false")
        #expect(!result.stdoutText.contains(D1Emulator.token) && !result.stderrText.contains(D1Emulator.token))
    }

    @Test("serve d1://… backs the D1 database up through the admin API")
    func serve() throws {
        let (dir, emulator) = try Self.served("serve")
        defer { emulator.stop(); dir.remove() }
        let port = try ProcessRunner.run(["python3", "-c", "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])"])
            .stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        let admin = "d1-serve-admin-token-0123456789abcdef"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Fixtures.backstreamBinary)
        process.arguments = ["serve", "d1:///app", "--store", dir.file("store"), "--port", port, "--schedule", "off"]
        process.environment = ProcessInfo.processInfo.environment.merging(emulator.environment()) { $1 }
            .merging(["BACKSTREAM_ADMIN_TOKENS": admin, "BACKSTREAM_STORE": ""]) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { process.terminate(); process.waitUntilExit() }
        let base = "http://127.0.0.1:\(port)"
        var up = false
        for _ in 0..<100 where !up {
            up = (try? ProcessRunner.run(["curl", "-sf", "\(base)/healthz"]).status) == 0
            if !up { Thread.sleep(forTimeInterval: 0.1) }
        }
        #expect(up)
        let answer = try ProcessRunner.run(["curl", "-s", "-X", "POST", "-H", "Authorization: Bearer \(admin)", "\(base)/api/admin/backup"])
        let json = try #require(try JSONSerialization.jsonObject(with: answer.stdout) as? [String: Any], "\(answer.stdoutText)")
        let key = try #require(json["key"] as? String, "\(answer.stdoutText)")
        let restored = dir.file("r.db")
        let restore = try ProcessRunner.run([Fixtures.backstreamBinary, "restore", key, "--store", dir.file("store"), "--into", restored])
        #expect(restore.status == 0, "\(restore.stderrText)")
        #expect(try TestDatabase(restored).strings("SELECT CAST(big AS TEXT) FROM t ORDER BY id") == ["9223372036854775807", "-9007199254740993"])
    }
}
