import Backup
@testable import BackupServer
import Fleet
import Foundation
import Synchronization
import Testing
import TestSupport

/// A fleet in one process over real HTTP: databases addressed by name, each under its own
/// prefix of a folder store, leases in the same store, metrics per database, back-off of a
/// failing database, and reloads.
@Suite("Fleet server")
struct FleetServerTests {
    static let token = ServerHarness.staticToken

    /// `count` small SQLite files named `<prefix>NN.db` with an activity_log, in `dir`.
    static func databases(_ count: Int, prefix: String = "tenant-", in dir: TemporaryDirectory) throws -> [String] {
        try databases(count, prefix: prefix, inFolder: dir.path)
    }

    static func databases(_ count: Int, prefix: String = "tenant-", inFolder folder: String) throws -> [String] {
        try (0..<count).map { i in
            let path = "\(folder)/" + String(format: "%@%02d.db", prefix, i)
            try TestDatabase(path).execute("""
                CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT);
                INSERT INTO notes(body) VALUES ('tenant \(i)'), ('second row');
                CREATE TABLE activity_log(id INTEGER PRIMARY KEY AUTOINCREMENT, user_id TEXT, action TEXT NOT NULL,
                                          details TEXT, created_at TEXT DEFAULT CURRENT_TIMESTAMP);
                """)
            return path
        }
    }

    /// The fleet of `paths` on the folder store `store`, each under `<name>/`.
    static func fleet(_ paths: [String], store: String, schedule: CronSchedule? = nil) throws -> [FleetDatabase] {
        let root = try BackupDestination.resolve(store, environment: [:])
        return paths.map { path in
            let name = ServerConfiguration.name(forSource: path)
            return FleetDatabase(name: name, source: path, destination: BackupDestination(store: root.store, prefix: "\(name)/"),
                                 schedule: schedule)
        }
    }

    static func configuration(_ fleet: [FleetDatabase], store: String, dir: TemporaryDirectory,
                              clock: any ServerClock = SystemClock()) throws -> ServerConfiguration {
        var configuration = try ServerHarness.configuration(database: fleet[0].source, store: store, keys: nil)
        configuration.fleet = fleet
        configuration.clock = clock
        configuration.leases = .init(destination: BackupDestination(store: fleet[0].destination.store, prefix: "leases/"), ttl: 30)
        return configuration
    }

    @Test("databases are listed and backed up by name, each under its own prefix; the guide's paths point to them")
    func addressedByName() async throws {
        let dir = try TemporaryDirectory("fleet-api")
        defer { dir.remove() }
        let paths = try Self.databases(3, in: dir)
        let fleet = try Self.fleet(paths, store: dir.file("store"))
        let server = try await ServerHarness.start(try Self.configuration(fleet, store: dir.file("store"), dir: dir))
        defer { Task { await server.stop() } }

        let listed = try await server.get("/api/admin/databases", bearer: Self.token).json()
        let names = (listed["databases"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
        #expect(names == ["tenant-00", "tenant-01", "tenant-02"])
        #expect(listed["total"] as? Int == 3)

        let created = try await server.send("POST", "/api/admin/databases/tenant-01/backup", bearer: Self.token)
        #expect(created.status == 200, "\(created.text)")
        let key = try #require(try created.json()["key"] as? String)
        #expect(key.hasPrefix("tenant-01/database-"))
        #expect(FileManager.default.fileExists(atPath: dir.file("store/\(key)")))
        // The manual run took a lease and left it done, under the lease prefix.
        let leases = FileManager.default.enumerator(atPath: dir.file("store/leases"))?.allObjects as? [String] ?? []
        #expect(leases.contains { $0.hasPrefix("tenant-01/manual-") }, "\(leases)")

        let list = try await server.get("/api/admin/databases/tenant-01/backup", bearer: Self.token).json()
        #expect(list["total"] as? Int == 1)
        let other = try await server.get("/api/admin/databases/tenant-02/backup", bearer: Self.token).json()
        #expect(other["total"] as? Int == 0)
        let encoded = key.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? key
        let verify = try await server.send("POST", "/api/admin/databases/tenant-01/backup/\(encoded)/verify", bearer: Self.token)
        #expect(verify.status == 200, "\(verify.text)")
        let download = try await server.get("/api/admin/databases/tenant-01/backup/\(encoded)/download", bearer: Self.token)
        #expect(download.status == 200 && Array(download.body.prefix(2)) == [0x1F, 0x8B])
        // A key of another database is not reachable through this one's path.
        let crossed = try await server.get("/api/admin/databases/tenant-02/backup/\(encoded)/download", bearer: Self.token)
        #expect(crossed.status == 404, "\(crossed.text)")

        let unknown = try await server.send("POST", "/api/admin/databases/nope/backup", bearer: Self.token)
        #expect(unknown.status == 404 && unknown.text.contains("/api/admin/databases"), "\(unknown.text)")
        let guide = try await server.send("POST", "/api/admin/backup", bearer: Self.token)
        #expect(guide.status == 404 && guide.text.contains("/api/admin/databases/{name}/backup"), "\(guide.text)")
        let anonymous = try await server.get("/api/admin/databases")
        #expect(anonymous.status == 401)

        let metrics = try await server.get("/metrics").text
        #expect(metrics.contains("backstream_backups_total{database=\"tenant-01\"} 1"), "\(metrics)")
        #expect(metrics.contains("backstream_backups_total{database=\"tenant-00\"} 0"), "\(metrics)")
        #expect(metrics.contains("backstream_backups_failed_total{database=\"tenant-02\"} 0"), "\(metrics)")
        let health = try await server.get("/healthz").json()
        #expect(health["databases"] as? Int == 3 && health["status"] as? String == "ok", "\(health)")
    }

    @Test("a scheduled minute backs up every database once; a failing one backs off without holding up the others")
    func failingDatabaseBacksOff() async throws {
        let dir = try TemporaryDirectory("fleet-backoff")
        defer { dir.remove() }
        let paths = try Self.databases(4, in: dir)
        let fleet = try Self.fleet(paths, store: dir.file("store"), schedule: try CronSchedule("* * * * *"))
        try FileManager.default.removeItem(atPath: paths[2])  // tenant-02 cannot be read
        // The next minute is 2 s away (or, on a loaded machine that took longer to start the
        // server, the one after: the run waited for is the one the server planned).
        let now = Date()
        let target = (now.timeIntervalSince1970 / 60).rounded(.down) * 60 + 60
        let clock = SystemClock(offset: target - 2 - now.timeIntervalSince1970)
        var configuration = try Self.configuration(fleet, store: dir.file("store"), dir: dir, clock: clock)
        configuration.maxConcurrent = 1
        let server = try await ServerHarness.start(configuration)
        defer { Task { await server.stop() } }

        var databases: [[String: Any]] = []
        var planned: Date?
        for _ in 0..<100 where planned == nil {
            databases = try await server.get("/api/admin/databases", bearer: Self.token).json()["databases"] as? [[String: Any]] ?? []
            planned = (databases.first?["next_run"] as? String).flatMap { ISO8601DateFormatter.withFractions.date(from: $0) }
            if planned == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        let due = try #require(planned, "no run planned: \(databases)")
        let deadline = Date().addingTimeInterval(due.timeIntervalSince(clock.now()) + 30)
        while Date() < deadline {
            try await Task.sleep(for: .milliseconds(100))
            databases = try await server.get("/api/admin/databases", bearer: Self.token).json()["databases"] as? [[String: Any]] ?? []
            if databases.allSatisfy({ !($0["last_backup"] is NSNull) }) { break }
        }
        let byName = Dictionary(uniqueKeysWithValues: databases.compactMap { d in (d["name"] as? String).map { ($0, d) } })
        // Where starting the server took longer than the 2 s head start, the minute ran before
        // the first poll, which then saw the following one planned: the run is one of the two.
        let firstKey = (byName["tenant-00"]?["last_backup"] as? [String: Any])?["key"] as? String
        let minute = [due.timeIntervalSince1970, due.timeIntervalSince1970 - 60].first {
            BackupKey.make(prefix: "tenant-00/", date: Date(timeIntervalSince1970: $0)) == firstKey
        } ?? due.timeIntervalSince1970
        for name in ["tenant-00", "tenant-01", "tenant-03"] {
            let last = byName[name]?["last_backup"] as? [String: Any]
            #expect(last?["ok"] as? Bool == true && last?["trigger"] as? String == "scheduled", "\(name): \(databases)")
            // Scheduled keys carry the scheduled minute, so every replica would name the run alike.
            let expected = BackupKey.make(prefix: "\(name)/", date: Date(timeIntervalSince1970: minute))
            #expect(last?["key"] as? String == expected, "\(name): \(String(describing: last))")
            #expect(byName[name]?["consecutive_failures"] as? Int == 0)
        }
        let failing = try #require(byName["tenant-02"])
        #expect((failing["last_backup"] as? [String: Any])?["ok"] as? Bool == false, "\(failing)")
        #expect(failing["status"] as? String == "failing" && failing["consecutive_failures"] as? Int == 1)
        let backoff = try #require(failing["backoff_until"] as? String, "\(failing)")
        #expect(backoff > BackupMetadata.iso8601(Date(timeIntervalSince1970: minute + 59)), "\(backoff)")
        let health = try await server.get("/healthz").json()
        #expect(health["status"] as? String == "failing" && health["failing"] as? [String] == ["tenant-02"], "\(health)")
        let metrics = try await server.get("/metrics").text
        #expect(metrics.contains("backstream_backups_failed_total{database=\"tenant-02\"} 1"), "\(metrics)")
        #expect(metrics.contains("backstream_backups_failed_total{database=\"tenant-00\"} 0"), "\(metrics)")

        // A database backing off skips its due runs (counted) and is not claimed, so another
        // replica may take them.
        let coordinator = server.server.coordinator
        let bad = try #require(await coordinator.database(named: "tenant-02"))
        #expect(await bad.skipsForBackoff(Date(timeIntervalSince1970: minute + 60)))
        #expect(!(await bad.skipsForBackoff(Date(timeIntervalSince1970: minute + 3600 * 2))))
        #expect(try await server.get("/metrics").text.contains("backstream_backups_skipped_total{database=\"tenant-02\"} 1"))
    }

    @Test("a reload adds and drops databases; a refused file keeps the running fleet")
    func reloads() async throws {
        let dir = try TemporaryDirectory("fleet-reload")
        defer { dir.remove() }
        let paths = try Self.databases(3, in: dir)
        let first = try Self.fleet(Array(paths.prefix(2)), store: dir.file("store"))
        let second = try Self.fleet(Array(paths.suffix(2)), store: dir.file("store"))
        let next = Locked<Result<[FleetDatabase], ServerError>>(.success(second))
        var configuration = try Self.configuration(first, store: dir.file("store"), dir: dir)
        configuration.reloadFleet = {
            try ServerConfiguration.LoadedFleet(databases: next.withLock { $0 }.get(), maxConcurrent: 3, warnings: [])
        }
        let server = try await ServerHarness.start(configuration)
        defer { Task { await server.stop() } }
        func names() async throws -> [String] {
            let listed = try await server.get("/api/admin/databases", bearer: Self.token).json()
            return (listed["databases"] as? [[String: Any]])?.compactMap { $0["name"] as? String } ?? []
        }
        #expect(try await names() == ["tenant-00", "tenant-01"])
        #expect(await server.server.reload())
        #expect(try await names() == ["tenant-01", "tenant-02"])
        #expect(await server.server.coordinator.maxConcurrent == 3)
        let created = try await server.send("POST", "/api/admin/databases/tenant-02/backup", bearer: Self.token)
        #expect(created.status == 200, "\(created.text)")
        let gone = try await server.send("POST", "/api/admin/databases/tenant-00/backup", bearer: Self.token)
        #expect(gone.status == 404)

        next.withLock { $0 = .failure(.configuration("fleet.toml:3: schedule: not a cron expression")) }
        #expect(!(await server.server.reload()))
        #expect(try await names() == ["tenant-01", "tenant-02"])
    }

    @Test("the admin page in Chromium lists every database with its last outcome, and works on the one opened")
    func adminPage() async throws {
        let dir = try TemporaryDirectory("fleet-page")
        defer { dir.remove() }
        let paths = try Self.databases(3, in: dir)
        let fleet = try Self.fleet(paths, store: dir.file("store"))
        try FileManager.default.removeItem(atPath: paths[2])
        let server = try await ServerHarness.start(try Self.configuration(fleet, store: dir.file("store"), dir: dir))
        defer { Task { await server.stop() } }
        // tenant-02's file is gone: its manual backup fails, and the page shows it failing.
        let failed = try await server.send("POST", "/api/admin/databases/tenant-02/backup", bearer: Self.token)
        #expect(failed.status >= 400)

        let script = Fixtures.packageRoot + "/scripts/admin_fleet_browser.py"
        let run = try await HTTPClient.run(["python3", script, server.base, Self.token, "tenant-01"])
        let output = run.stdoutText.split(separator: "\n").last.map(String.init) ?? ""
        let result = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any],
                                  "browser script failed (\(run.status)): \(run.stdoutText) \(run.stderrText)")
        #expect(result["error"] == nil, "\(result["error"] ?? "")")
        let before = try #require(result["databases_before"] as? [[String: Any]])
        #expect(before.compactMap { $0["name"] as? String } == ["tenant-00", "tenant-01", "tenant-02"])
        #expect((before[2]["last"] as? String)?.hasPrefix("manual backup failed") == true, "\(before)")
        #expect((before[0]["last"] as? String) == "no backup run by this server yet")
        #expect((result["create_message"] as? String)?.hasPrefix("Created tenant-01/database-") == true, "\(result)")
        #expect((result["first_key"] as? String)?.hasPrefix("tenant-01/") == true)
        #expect((result["verify_result"] as? String)?.hasPrefix("verified:") == true, "\(result)")
        let after = try #require(result["databases_after"] as? [[String: Any]])
        #expect((after[1]["last"] as? String)?.hasPrefix("manual backup succeeded") == true && after[1]["ok"] as? Bool == true, "\(after)")
    }

    @Test("past the budget a backup waits its turn, shown as queued, not running")
    func queuedPastTheBudget() async throws {
        let dir = try TemporaryDirectory("fleet-queued")
        defer { dir.remove() }
        let paths = [try GracefulShutdownTests.largeDatabase(in: dir)] + (try Self.databases(1, in: dir))
        var configuration = try Self.configuration(try Self.fleet(paths, store: dir.file("store")), store: dir.file("store"), dir: dir)
        configuration.maxConcurrent = 1
        let server = try await ServerHarness.start(configuration)
        defer { Task { await server.stop() } }
        async let large = server.send("POST", "/api/admin/databases/large/backup", bearer: Self.token)
        var byName: [String: [String: Any]] = [:]
        for _ in 0..<200 {
            let listed = try await server.get("/api/admin/databases", bearer: Self.token).json()["databases"] as? [[String: Any]] ?? []
            byName = Dictionary(uniqueKeysWithValues: listed.compactMap { d in (d["name"] as? String).map { ($0, d) } })
            if !(byName["large"]?["running"] is NSNull) { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(byName["large"]?["running"] is [String: Any], "\(byName)")
        async let small = server.send("POST", "/api/admin/databases/tenant-00/backup", bearer: Self.token)
        var queued: [String: Any] = [:]
        for _ in 0..<200 {
            let listed = try await server.get("/api/admin/databases", bearer: Self.token).json()["databases"] as? [[String: Any]] ?? []
            queued = listed.first { $0["name"] as? String == "tenant-00" } ?? [:]
            if queued["queued_since"] is String { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(queued["queued_since"] is String && queued["running"] is NSNull, "\(queued)")
        #expect(try await large.status == 200)
        #expect(try await small.status == 200)
        let after = try await server.get("/api/admin/databases", bearer: Self.token).json()["databases"] as? [[String: Any]] ?? []
        #expect(after.allSatisfy { $0["queued_since"] is NSNull && $0["running"] is NSNull }, "\(after)")
    }

    @Test("the budget grants at most its limit at once, in the order asked, and skips a cancelled waiter")
    func budgetOrder() async throws {
        let budget = WorkBudget(limit: 2)
        #expect(await budget.acquire())
        #expect(await budget.acquire())
        let order = Locked<[Int]>([])
        var waiters: [Task<Void, Never>] = []
        for i in 0..<4 {
            waiters.append(Task {
                if await budget.acquire() { order.withLock { $0.append(i) } }
            })
            while await budget.waiting < i + 1 { await Task.yield() }
        }
        waiters[1].cancel()
        while await budget.waiting > 3 { await Task.yield() }
        #expect(await budget.inUse == 2)
        await budget.release()
        await budget.release()
        for waiter in waiters.prefix(3) { await waiter.value }
        #expect(order.withLock { $0 } == [0, 2], "a cancelled waiter takes no slot; the rest in order")
        #expect(await budget.inUse == 2)
        #expect(await budget.waiting == 1)
        await budget.release()
        await waiters[3].value
        #expect(await budget.inUse == 2)
        #expect(order.withLock { $0 } == [0, 2, 3])
    }
}

/// A value shared with escaping closures and tasks.
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func withLock<T>(_ body: (inout Value) -> T) -> T { mutex.withLock { body(&$0) } }
}

extension ISO8601DateFormatter {
    /// The server's timestamps: `2026-12-03T16:23:00.000Z`.
    static var withFractions: ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }
}
