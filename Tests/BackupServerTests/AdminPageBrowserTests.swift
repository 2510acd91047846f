import Backup
import BackupServer
import Fleet
import Foundation
import Testing
import TestSupport

/// /admin/backups in a real headless Chromium, clicked over the DevTools protocol by
/// scripts/admin_page_browser.py. Fails loudly when Chromium is missing.
@Suite("Admin page in Chromium", .serialized)
struct AdminPageBrowserTests {
    @Test("sign in, Create Backup Now, Verify, Download, Clean up old backups, sign out")
    func adminPage() async throws {
        let which = try await HTTPClient.run(["bash", "-c", "command -v chromium || command -v chromium-browser || command -v google-chrome"])
        guard which.status == 0 else {
            Issue.record("""
                ************************************************************
                CHROMIUM IS NOT INSTALLED: the admin page browser test cannot run.
                Install the Debian package `chromium` (scripts/test.sh does).
                ************************************************************
                """)
            return
        }
        let dir = try TemporaryDirectory("serve-browser")
        defer { dir.remove() }
        let database = try ServerHarness.database(in: dir)
        var configuration = try ServerHarness.configuration(database: database, store: dir.file("store"), keys: nil)
        configuration.schedule = try CronSchedule("0 2 * * *")
        configuration.retention = RetentionPolicy(retentionDays: 30, keepLast: 1)
        let server = try await ServerHarness.start(configuration)
        defer { Task { await server.stop() } }

        // Without the cookie the page is the sign-in form, with 401.
        let anonymous = try await server.get("/admin/backups")
        #expect(anonymous.status == 401)
        #expect(anonymous.text.contains("id=\"signin\""))
        #expect(!anonymous.text.contains("Create Backup Now"))
        let wrongCookie = try await HTTPClient.request("GET", server.base + "/admin/backups", headers: ["Cookie: backstream_admin=nope"])
        #expect(wrongCookie.status == 401 && wrongCookie.text.contains("Token refused"))

        let script = Fixtures.packageRoot + "/scripts/admin_page_browser.py"
        let run = try await HTTPClient.run(["python3", script, server.base, ServerHarness.staticToken, dir.file("store"), dir.path])
        let output = run.stdoutText.split(separator: "\n").last.map(String.init) ?? ""
        let result = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any],
                                  "browser script failed (\(run.status)): \(run.stdoutText) \(run.stderrText)")
        #expect(result["error"] == nil, "\(result["error"] ?? "")")
        #expect(run.status == 0)
        #expect(result["signin_form"] as? Bool == true)
        #expect(result["rows_before"] as? Int == 0)
        #expect((result["next_run"] as? String)?.hasSuffix("T02:00:00.000Z") == true, "\(result)")
        #expect(result["rows_after_create"] as? Int == 1)
        #expect((result["create_message"] as? String)?.hasPrefix("Created backups/database-") == true, "\(result)")
        #expect((result["last_run"] as? String)?.hasPrefix("manual backup succeeded") == true, "\(result)")
        #expect((result["verify_result"] as? String)?.hasPrefix("verified:") == true, "\(result)")
        let key = try #require(result["first_key"] as? String)
        #expect(result["downloaded"] as? String == (key as NSString).lastPathComponent)
        let stored = try FileManager.default.attributesOfItem(atPath: dir.file("store/\(key)"))[.size] as? Int
        #expect(result["downloaded_size"] as? Int == stored)
        #expect(result["cleanup_message"] as? String == "Deleted 1 old backups")
        #expect(result["old_backup_left"] as? Bool == false)
        #expect(result["signed_out"] as? Bool == true)
        let log = try TestDatabase(database).strings("SELECT action FROM activity_log ORDER BY id")
        #expect(log.first == "database_backup_created")
    }
}
