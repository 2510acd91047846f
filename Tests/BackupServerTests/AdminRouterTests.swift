import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import TestSupport

/// The cron trigger, the admin page and its session, health and metrics through the router.
@Suite("Router: cron, admin page, health")
struct AdminRouterTests {
    @Test("cron: 403 without CRON_SECRET, 401 for a wrong or missing secret, 200 with it, 429 past the burst")
    func cron() async throws {
        let disabled = try RouterHarness("router-cron-off")
        defer { disabled.dir.remove() }
        try await disabled.test { client in
            try await client.execute(uri: "/api/cron/backup", method: .get, headers: RouterHarness.bearer("anything")) { response in
                #expect(response.status == .forbidden)
                let error = try response.json()["error"] as? String
                #expect(error?.contains("CRON_SECRET") == true)
            }
        }
        let harness = try RouterHarness("router-cron", environment: ["CRON_SECRET": ServerHarness.cronSecret]) { configuration in
            configuration.rateLimitBurst = 2
            configuration.rateLimitPerSecond = 0.01
        }
        defer { harness.dir.remove() }
        try await harness.test { client in
            for headers in [[:], RouterHarness.bearer("wrong-secret")] as [HTTPFields] {
                try await client.execute(uri: "/api/cron/backup", method: .get, headers: headers) { response in
                    #expect(response.status == .unauthorized && response.headers[.wwwAuthenticate] == "Bearer")
                    let error = try response.json()["error"] as? String
                    #expect(error == "unauthorized")
                }
            }
            // The admin token is not the cron secret: a third failure, past the peer's burst.
            try await client.execute(uri: "/api/cron/backup", method: .get, headers: RouterHarness.admin) { response in
                #expect(response.status == .tooManyRequests && Int(response.headers[.retryAfter] ?? "") ?? 0 > 0)
            }
            let secret = RouterHarness.bearer(ServerHarness.cronSecret)
            try await client.execute(uri: "/api/cron/backup", method: .get, headers: secret) { response in
                #expect(response.status == .ok, "\(response.text)")
                let body = try response.json()
                #expect(Set(body.keys) == ["success", "key", "size", "deleted_count"])
                #expect(body["success"] as? Bool == true && (body["key"] as? String)?.hasPrefix("backups/database-") == true)
            }
            _ = try await client.execute(uri: "/api/cron/backup", method: .get, headers: secret)
            try await client.execute(uri: "/api/cron/backup", method: .get, headers: secret) { response in
                #expect(response.status == .tooManyRequests && Int(response.headers[.retryAfter] ?? "") ?? 0 > 0)
            }
        }
    }

    @Test("admin page: redirect, sign-in form without or with a refused cookie, the list with the session cookie")
    func page() async throws {
        let harness = try RouterHarness("router-page")
        defer { harness.dir.remove() }
        try await harness.test { client in
            try await client.execute(uri: "/admin", method: .get) { response in
                #expect(response.status == .seeOther && response.headers[.location] == "/admin/backups")
            }
            try await client.execute(uri: "/admin/backups", method: .get) { response in
                #expect(response.status == .unauthorized)
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                #expect(response.text.contains("<form id=\"signin\">") && response.text.contains("id=\"token\""))
                #expect(!response.text.contains("Token refused"))
                #expect(!response.text.contains("{{"), "unfilled placeholder")
            }
            try await client.execute(uri: "/admin/backups", method: .get, headers: [.cookie: "backstream_admin=wrong"]) { response in
                #expect(response.status == .unauthorized)
                #expect(response.text.contains("Token refused: invalid token."))
            }
            _ = try await client.execute(uri: "/api/admin/backup", method: .post, headers: RouterHarness.admin)
            let cookie = "backstream_admin=" + (ServerHarness.staticToken.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
            try await client.execute(uri: "/admin/backups", method: .get, headers: [.cookie: cookie]) { response in
                #expect(response.status == .ok, "\(response.text)")
                let html = response.text
                for id in ["id=\"status\"", "id=\"create\">Create Backup Now", "id=\"cleanup\">Clean up old backups",
                           "id=\"signout\">Sign out", "id=\"backups\"", "<p id=\"total\">1 backup</p>", "class=\"verify\">Verify"] {
                    #expect(html.contains(id), "\(id) missing")
                }
                #expect(html.contains("<title>Backups · Backstream</title>") && !html.contains("{{"))
                #expect(response.headers[.contentSecurityPolicy]?.contains("frame-ancestors 'none'") == true)
            }
        }
    }

    @Test("session: POST needs an admin bearer and sets an HttpOnly SameSite=Strict cookie on /admin; DELETE clears it")
    func session() async throws {
        let harness = try RouterHarness("router-session")
        defer { harness.dir.remove() }
        try await harness.test { client in
            try await client.execute(uri: "/admin/session", method: .post, headers: RouterHarness.bearer("wrong")) { response in
                #expect(response.status == .unauthorized && response.headers[.setCookie] == nil)
            }
            try await client.execute(uri: "/admin/session", method: .post, headers: RouterHarness.admin) { response in
                #expect(response.status == .ok && response.text == "{\"success\":true}\n")
                let cookie = try #require(response.headers[.setCookie])
                #expect(cookie.hasPrefix("backstream_admin=\(ServerHarness.staticToken)"), "\(cookie)")
                #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/admin"))
                #expect(!cookie.contains("Secure"))
            }
            let forwarded = try #require(HTTPField.Name("X-Forwarded-Proto"))
            try await client.execute(uri: "/admin/session", method: .post,
                                     headers: [.authorization: "Bearer \(ServerHarness.staticToken)", forwarded: "https"]) { response in
                #expect(response.headers[.setCookie]?.contains("Secure") == true)
            }
            try await client.execute(uri: "/admin/session", method: .delete) { response in
                #expect(response.status == .ok && response.text == "{\"success\":true}\n")
                #expect(response.headers[.setCookie]?.contains("Max-Age=0") == true)
            }
        }
    }

    @Test("healthz and metrics: no credentials, the state before and after a backup")
    func health() async throws {
        let harness = try RouterHarness("router-health")
        defer { harness.dir.remove() }
        try await harness.test { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.text == "{\"status\":\"ok\",\"schedule\":\"off\",\"next_run\":null,\"running\":null,\"last_backup\":null,\"last_success\":null}\n")
            }
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok && response.headers[.contentType] == "text/plain; version=0.0.4; charset=utf-8")
                #expect(response.text.contains("\nbackstream_backups_total{database=\"app\"} 0\n") && response.text.contains("# TYPE backstream_uploaded_bytes_total counter"))
            }
            _ = try await client.execute(uri: "/api/admin/backup", method: .post, headers: RouterHarness.admin)
            try await client.execute(uri: "/healthz", method: .get) { response in
                let body = try response.json()
                let last = try #require(body["last_backup"] as? [String: Any])
                #expect(Set(last.keys) == ["trigger", "ok", "started", "finished", "duration_ms", "key", "size", "deleted_count", "error"])
                #expect(last["ok"] as? Bool == true && last["trigger"] as? String == "manual" && last["error"] is NSNull)
                #expect(body["last_success"] is String)
            }
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.text.contains("\nbackstream_backups_total{database=\"app\"} 1\n") && response.text.contains("\nbackstream_backups_failed_total{database=\"app\"} 0\n"))
            }
        }
    }
}
