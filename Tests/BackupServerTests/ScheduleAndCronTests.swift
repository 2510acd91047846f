import Backup
import BackupServer
import Fleet
import Foundation
import Testing
import TestSupport

@Suite("Schedule, cron endpoint, health and metrics", .serialized)
struct ScheduleAndCronTests {
    @Test("GET /api/cron/backup needs CRON_SECRET as Bearer, backs up and prunes as a scheduled backup")
    func cronEndpoint() async throws {
        let dir = try TemporaryDirectory("serve-cron")
        defer { dir.remove() }
        let database = try ServerHarness.database(in: dir)
        let configuration = try ServerHarness.configuration(database: database, store: dir.file("store"), keys: nil,
                                                            environment: ["CRON_SECRET": ServerHarness.cronSecret])
        let server = try await ServerHarness.start(configuration)
        defer { Task { await server.stop() } }
        for token in [nil, "wrong", ServerHarness.staticToken, String(ServerHarness.cronSecret.dropLast())] {
            let answer = try await server.get("/api/cron/backup", bearer: token)
            #expect(answer.status == 401, "\(token ?? "none"): \(answer.text)")
            #expect((try? answer.json()["error"] as? String) == "unauthorized")
        }
        let answer = try await server.get("/api/cron/backup", bearer: ServerHarness.cronSecret)
        #expect(answer.status == 200, "\(answer.text)")
        let body = try answer.json()
        #expect((body["key"] as? String)?.hasPrefix("backups/database-") == true)
        #expect(body["size"] as? Int ?? 0 > 0)
        #expect(body["deleted_count"] as? Int == 0)
        let actions = try TestDatabase(database).strings("SELECT action FROM activity_log ORDER BY id")
        #expect(actions == ["scheduled_backup_completed", "backups_cleaned_up"])
    }

    @Test("without CRON_SECRET the cron endpoint is refused with a sentence, and no backup runs")
    func cronWithoutSecret() async throws {
        let dir = try TemporaryDirectory("serve-cron-open")
        defer { dir.remove() }
        let database = try ServerHarness.database(in: dir)
        let server = try await ServerHarness.start(try ServerHarness.configuration(database: database, store: dir.file("store"), keys: nil))
        defer { Task { await server.stop() } }
        for token in [nil, "anything"] {
            let answer = try await server.get("/api/cron/backup", bearer: token)
            #expect(answer.status == 403, "\(answer.text)")
            #expect((try answer.json()["error"] as? String)?.contains("CRON_SECRET") == true, "\(answer.text)")
        }
        #expect(try TestDatabase(database).strings("SELECT action FROM activity_log").isEmpty)
        #expect(try await server.get("/healthz").json()["last_backup"] is NSNull)
    }

    @Test("the built-in schedule fires at 02:00 UTC (clock set to 01:59:58), shows in /healthz and /metrics")
    func scheduleFires() async throws {
        let dir = try TemporaryDirectory("serve-schedule")
        defer { dir.remove() }
        let database = try ServerHarness.database(in: dir)
        var configuration = try ServerHarness.configuration(database: database, store: dir.file("store"), keys: nil)
        configuration.schedule = try CronSchedule("0 2 * * *")
        // Shift the clock so that the next 02:00 UTC is two seconds away.
        let now = Date()
        let day = (now.timeIntervalSince1970 / 86_400).rounded(.down)
        let target = Date(timeIntervalSince1970: (day + 1) * 86_400 + 2 * 3600)
        configuration.clock = SystemClock(offset: target.timeIntervalSince(now) - 2)
        let server = try await ServerHarness.start(configuration)
        defer { Task { await server.stop() } }

        let before = try await server.get("/healthz").json()
        #expect(before["next_run"] as? String == BackupMetadata.iso8601(target))
        #expect(before["schedule"] as? String == "0 2 * * *")
        #expect(before["last_backup"] is NSNull)

        var health: [String: Any] = [:]
        for _ in 0..<100 {
            try await Task.sleep(for: .milliseconds(200))
            health = try await server.get("/healthz").json()
            if !(health["last_backup"] is NSNull) && health["next_run"] as? String != BackupMetadata.iso8601(target) { break }
        }
        let last = try #require(health["last_backup"] as? [String: Any], "\(health)")
        #expect(last["trigger"] as? String == "scheduled")
        #expect(last["ok"] as? Bool == true)
        #expect((last["key"] as? String)?.contains("database-") == true)
        #expect(health["status"] as? String == "ok")
        #expect(health["last_success"] is String)
        #expect(health["next_run"] as? String == BackupMetadata.iso8601(target.addingTimeInterval(86_400)))
        let actions = try TestDatabase(database).strings("SELECT action FROM activity_log ORDER BY id")
        #expect(actions.first == "scheduled_backup_completed")

        let metrics = try await server.get("/metrics")
        #expect(metrics.headers["content-type"]?.hasPrefix("text/plain") == true)
        let values = Self.samples(metrics.text)
        #expect(values["backstream_backups_total"] == 1)
        #expect(values["backstream_backups_failed_total"] == 0)
        #expect(values["backstream_uploaded_bytes_total"] == Double(last["size"] as? Int ?? -1))
        #expect(values["backstream_last_success_timestamp_seconds"] ?? 0 > target.timeIntervalSince1970 - 5)
        #expect(values["backstream_last_duration_seconds"] ?? -1 >= 0)
        for name in ["backstream_backups_total", "backstream_backups_failed_total", "backstream_uploaded_bytes_total"] {
            #expect(metrics.text.contains("# TYPE \(name) counter"))
        }
    }

    @Test("a failed scheduled backup is logged, counted, reported by /healthz and POSTed to the alert webhook")
    func scheduledFailureAlerts() async throws {
        let dir = try TemporaryDirectory("serve-alert")
        defer { dir.remove() }
        let database = try ServerHarness.database(in: dir)
        // The store is a regular file: every upload fails quickly.
        let blocker = dir.file("not-a-folder")
        try Data("x".utf8).write(to: URL(fileURLWithPath: blocker))
        let hook = try await LocalHTTPServer.start(in: dir)
        defer { hook.stop() }
        var configuration = try ServerHarness.configuration(database: database, store: blocker, keys: nil,
                                                            environment: ["BACKSTREAM_ALERT_WEBHOOK": hook.base + "/hook"])
        configuration.schedule = try CronSchedule("* * * * *")
        let now = Date()
        let nextMinute = (now.timeIntervalSince1970 / 60).rounded(.down) * 60 + 60
        configuration.clock = SystemClock(offset: nextMinute - now.timeIntervalSince1970 - 1)
        let server = try await ServerHarness.start(configuration)
        defer { Task { await server.stop() } }

        var received = ""
        for _ in 0..<100 where received.isEmpty {
            try await Task.sleep(for: .milliseconds(200))
            received = (try? String(contentsOfFile: hook.bodyFile, encoding: .utf8)) ?? ""
        }
        let alert = try #require(try JSONSerialization.jsonObject(with: Data(received.utf8)) as? [String: Any], "no webhook call")
        #expect(alert["event"] as? String == "scheduled_backup_failed")
        #expect(alert["database"] as? String == "app.db")
        #expect((alert["error"] as? String)?.isEmpty == false)

        let health = try await server.get("/healthz").json()
        #expect(health["status"] as? String == "failing")
        let last = try #require(health["last_backup"] as? [String: Any])
        #expect(last["ok"] as? Bool == false)
        let metrics = Self.samples(try await server.get("/metrics").text)
        #expect(metrics["backstream_backups_failed_total"] ?? 0 >= 1)
        #expect(metrics["backstream_last_success_timestamp_seconds"] == 0)
        let actions = try TestDatabase(database).strings("SELECT action FROM activity_log ORDER BY id")
        #expect(actions.first == "scheduled_backup_failed")
    }

    @Test("the moto S3 store: create, list, download and verify through the API")
    func motoStore() async throws {
        let s3 = try S3TestServer()
        let bucket = try s3.makeBucket("serve")
        let dir = try TemporaryDirectory("serve-moto")
        defer { dir.remove() }
        let database = try ServerHarness.database(in: dir)
        let server = try await ServerHarness.start(try ServerHarness.configuration(
            database: database, store: "s3://\(bucket)/backups/", keys: nil, environment: s3.environment))
        defer { Task { await server.stop() } }
        let token = ServerHarness.staticToken
        let created = try await server.send("POST", "/api/admin/backup", bearer: token)
        #expect(created.status == 200, "\(created.text)")
        let key = try #require(try created.json()["key"] as? String)
        let listed = try await server.get("/api/admin/backup", bearer: token).json()
        #expect(listed["total"] as? Int == 1)
        let entry = try #require((listed["backups"] as? [[String: Any]])?.first)
        #expect(entry["key"] as? String == key)
        #expect((entry["metadata"] as? [String: String])?["backup-size"] == String(entry["size"] as? Int ?? -1))

        let encoded = key.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? key
        let download = try await server.get("/api/admin/backup/\(encoded)/download", bearer: token)
        #expect(download.status == 200)
        let file = dir.file("via-aws")
        let viaAWS = try s3.aws(["s3api", "get-object", "--bucket", bucket, "--key", key, file])
        #expect(viaAWS.status == 0, "\(viaAWS.stderrText)")
        #expect(download.body == (try Data(contentsOf: URL(fileURLWithPath: file))))
        let verified = try await server.send("POST", "/api/admin/backup/\(encoded)/verify", bearer: token)
        #expect(verified.status == 200, "\(verified.text)")
        #expect(try verified.json()["ok"] as? Bool == true)
    }

    /// Prometheus samples without labels: name → value.
    /// Sample values by metric name, of the series labelled `database="app"` (the harness's database).
    static func samples(_ text: String) -> [String: Double] {
        var out: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: " ")
            guard parts.count == 2, let value = Double(parts[1]), parts[0].hasSuffix("{database=\"app\"}") else { continue }
            out[String(parts[0].dropLast("{database=\"app\"}".count))] = value
        }
        return out
    }
}
