import Backup
import BackupServer
import Foundation
import Testing
import TestSupport

/// Issue 10, "the server holds under abuse", over real HTTP.
@Suite("Server under abuse", .serialized)
struct ServerAbuseTests {
    @Test("200 anonymous failing requests in a burst leave the admin token and the cron trigger working")
    func anonymousFailuresDoNotStarveAuthenticated() async throws {
        let dir = try TemporaryDirectory("serve-abuse-rate")
        defer { dir.remove() }
        let database = try ServerHarness.database(in: dir)
        var configuration = try ServerHarness.configuration(database: database, store: dir.file("store"), keys: nil,
                                                            environment: ["CRON_SECRET": ServerHarness.cronSecret])
        configuration.rateLimitBurst = 5
        configuration.rateLimitPerSecond = 0.1
        let server = try await ServerHarness.start(configuration)
        defer { Task { await server.stop() } }
        let out = try TemporaryDirectory("abuse-out")
        defer { out.remove() }
        // One curl, 200 transfers, 20 at a time: wrong tokens on a work-starting endpoint and
        // on the cron trigger, all from 127.0.0.1 like the admin below.
        let burst = try await HTTPClient.run(["curl", "-s", "-Z", "--parallel-max", "20", "-X", "DELETE",
                                              "-H", "Authorization: Bearer wrong-token", "-o", out.file("a#1"),
                                              "-w", "%{http_code}\\n", "\(server.base)/api/admin/backup?n=[1-100]"])
        let cron = try await HTTPClient.run(["curl", "-s", "-Z", "--parallel-max", "20",
                                             "-H", "Authorization: Bearer wrong-secret", "-o", out.file("c#1"),
                                             "-w", "%{http_code}\\n", "\(server.base)/api/cron/backup?n=[1-100]"])
        let statuses = (burst.stdoutText + cron.stdoutText).split(separator: "\n").compactMap { Int($0) }
        #expect(statuses.count == 200, "\(burst.stderrText) \(cron.stderrText)")
        #expect(statuses.allSatisfy { $0 == 401 || $0 == 429 }, "\(Set(statuses))")
        #expect(statuses.filter { $0 == 429 }.count >= 190, "the failures' bucket (burst 5) was not applied: \(statuses)")
        // Authenticated callers from the same address are not starved.
        let list = try await server.get("/api/admin/backup", bearer: ServerHarness.staticToken)
        #expect(list.status == 200, "\(list.text)")
        let created = try await server.send("POST", "/api/admin/backup", bearer: ServerHarness.staticToken)
        #expect(created.status == 200, "\(created.text)")
        let triggered = try await server.get("/api/cron/backup", bearer: ServerHarness.cronSecret)
        #expect(triggered.status == 200, "\(triggered.text)")
        // Still limited for the failing caller.
        let again = try await server.send("DELETE", "/api/admin/backup", bearer: "wrong-token")
        #expect(again.status == 429 && Int(again.headers["retry-after"] ?? "") ?? 0 > 0)
    }

    @Test("serve starts with the JWKS URL down: tokens get 503, static tokens work, and once the JWKS is up tokens are accepted")
    func jwksOutageAtStart() async throws {
        let dir = try TemporaryDirectory("serve-jwks-down")
        defer { dir.remove() }
        let keys = try await TestKeys.make(in: dir)
        let port = try await GracefulShutdownTests.freePort()
        let database = try ServerHarness.database(in: dir)
        var configuration = try ServerHarness.configuration(database: database, store: dir.file("store"), keys: nil)
        try configuration.apply(environment: [
            "BACKSTREAM_ADMIN_TOKENS": ServerHarness.staticToken,
            "BACKSTREAM_JWKS_URL": "http://127.0.0.1:\(port)/" + (keys.jwksFile as NSString).lastPathComponent,
            "BACKSTREAM_JWT_ISSUER": TestClaims.issuer,
        ])
        configuration.auth.jwksRetryInitial = 0.2
        configuration.auth.jwksRetryMax = 0.5
        let server = try await ServerHarness.start(configuration)
        defer { Task { await server.stop() } }
        let token = try await keys.sign(TestClaims.admin())
        let early = try await server.get("/api/admin/backup", bearer: token)
        #expect(early.status == 503, "\(early.text)")
        #expect((try early.json()["error"] as? String)?.contains("JWKS") == true)
        #expect(try await server.get("/api/admin/backup", bearer: ServerHarness.staticToken).status == 200)

        let peer = try await LocalHTTPServer.start(in: dir, port: port)
        defer { peer.stop() }
        var status = 0
        for _ in 0..<150 where status != 200 {
            status = try await server.get("/api/admin/backup", bearer: token).status
            if status != 200 { try await Task.sleep(for: .milliseconds(200)) }
        }
        #expect(status == 200, "the token was never accepted after the JWKS came up")
        // A token signed by a key the JWKS does not hold: refused, and the JWKS is not fetched
        // again for each one (at most once per 60 s).
        let stranger = try await TestKeys.make(in: dir, kid: "unknown-kid", name: "stranger")
        peer.stop()
        for _ in 0..<5 {
            let answer = try await server.get("/api/admin/backup", bearer: try await stranger.sign(TestClaims.admin()))
            #expect(answer.status == 401, "\(answer.text)")
        }
        // Known keys keep working with the peer gone.
        #expect(try await server.get("/api/admin/backup", bearer: token).status == 200)
    }

    @Test("tokens claiming an absurd lifetime are refused: exp 1e300, exp in year 99999, exp 48 h ahead, iat 30 h before exp")
    func maximumTokenLifetime() async throws {
        let dir = try TemporaryDirectory("serve-lifetime")
        defer { dir.remove() }
        let keys = try await TestKeys.make(in: dir)
        let database = try ServerHarness.database(in: dir)
        let server = try await ServerHarness.start(try ServerHarness.configuration(database: database, store: dir.file("store"), keys: keys))
        defer { Task { await server.stop() } }
        var huge = TestClaims.admin()
        huge.exp = .init(value: Date(timeIntervalSince1970: 1e300))
        var year99999 = TestClaims.admin()
        year99999.exp = .init(value: Date(timeIntervalSince1970: 3_093_496_444_800))
        var twoDays = TestClaims.admin(expiresIn: 48 * 3600)
        twoDays.nbf = nil
        var longIssued = TestClaims.admin(expiresIn: 3600)
        longIssued.iat = .init(value: Date().addingTimeInterval(-30 * 3600))
        longIssued.nbf = nil
        var nbfFuture = TestClaims.admin()
        nbfFuture.nbf = .init(value: Date(timeIntervalSince1970: 3_093_496_444_800))
        for (label, claims) in [("1e300", huge), ("year 99999", year99999), ("48 h", twoDays), ("iat 30 h", longIssued), ("nbf 99999", nbfFuture)] {
            let answer = try await server.get("/api/admin/backup", bearer: try await keys.sign(claims))
            #expect(answer.status == 401, "\(label): \(answer.status) \(answer.text)")
        }
        var fine = TestClaims.admin(expiresIn: 3600)
        fine.iat = .init(value: Date())
        #expect(try await server.get("/api/admin/backup", bearer: try await keys.sign(fine)).status == 200)
    }

    @Test("the session cookie is set by the server: HttpOnly, SameSite=Strict, Secure over HTTPS (X-Forwarded-Proto) or when configured")
    func sessionCookie() async throws {
        let dir = try TemporaryDirectory("serve-cookie")
        defer { dir.remove() }
        let database = try ServerHarness.database(in: dir)
        let server = try await ServerHarness.start(try ServerHarness.configuration(database: database, store: dir.file("store"), keys: nil))
        defer { Task { await server.stop() } }
        let plain = try await HTTPClient.request("POST", server.base + "/admin/session", bearer: ServerHarness.staticToken)
        #expect(plain.status == 200)
        let cookie = plain.headers["set-cookie"] ?? ""
        #expect(cookie.hasPrefix("backstream_admin="), "\(cookie)")
        #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/admin"), "\(cookie)")
        #expect(!cookie.contains("Secure"), "\(cookie)")
        let https = try await HTTPClient.request("POST", server.base + "/admin/session", bearer: ServerHarness.staticToken,
                                                 headers: ["X-Forwarded-Proto: https"])
        #expect(https.headers["set-cookie"]?.contains("Secure") == true, "\(https.headers)")
        // The cookie it set signs the page in; a wrong token gets no cookie.
        let value = String(cookie.split(separator: ";")[0])
        let page = try await HTTPClient.request("GET", server.base + "/admin/backups", headers: ["Cookie: \(value)"])
        #expect(page.status == 200 && page.text.contains("Create Backup Now"))
        let wrong = try await HTTPClient.request("POST", server.base + "/admin/session", bearer: "wrong")
        #expect(wrong.status == 401 && wrong.headers["set-cookie"] == nil)
        let out = try await HTTPClient.request("DELETE", server.base + "/admin/session")
        #expect(out.headers["set-cookie"]?.contains("Max-Age=0") == true, "\(out.headers)")

        var configuration = try ServerHarness.configuration(database: database, store: dir.file("store2"), keys: nil,
                                                            environment: ["BACKSTREAM_SECURE_COOKIE": "1"])
        configuration.port = 0
        let secure = try await ServerHarness.start(configuration)
        defer { Task { await secure.stop() } }
        let told = try await HTTPClient.request("POST", secure.base + "/admin/session", bearer: ServerHarness.staticToken)
        #expect(told.headers["set-cookie"]?.contains("Secure") == true, "\(told.headers)")
    }

    @Test("malformed input is a 4xx: keys of 2,000 characters, year 99999, control characters; huge headers; a Date of year 99999; JSON garbage")
    func malformedInput() async throws {
        let dir = try TemporaryDirectory("serve-malformed")
        defer { dir.remove() }
        let database = try ServerHarness.database(in: dir)
        let server = try await ServerHarness.start(try ServerHarness.configuration(database: database, store: dir.file("store"), keys: nil))
        defer { Task { await server.stop() } }
        let token = ServerHarness.staticToken
        #expect(try await server.send("POST", "/api/admin/backup", bearer: token).status == 200)
        let long = String(repeating: "a", count: 2000)
        let keys = [long, "backups%2F" + long + ".sql.gz", "database-99999-01-01-00-00-00.sql.gz", "database-2024-01-01-00-00-00.sql.gz%00",
                    "database-2024-13-45-99-99-99.sql.gz", "%01%02", "backups%2F", "%2F%2F%2F"]
        for key in keys {
            for (method, action) in [("GET", "download"), ("POST", "verify")] {
                let answer = try await server.send(method, "/api/admin/backup/\(key)/\(action)", bearer: token)
                #expect((400..<500).contains(answer.status), "\(method) \(key.prefix(60)) \(action): \(answer.status) \(answer.text)")
                #expect((try? answer.json()["error"] as? String) != nil, "\(answer.text)")
                #expect(!answer.text.contains(dir.path))
            }
        }
        // A far-future Date header and JSON garbage on every endpoint: never a 5xx.
        for (method, path) in [("GET", "/healthz"), ("GET", "/api/admin/backup"), ("POST", "/api/admin/backup"),
                               ("POST", "/admin/session"), ("GET", "/api/cron/backup")] {
            let answer = try await HTTPClient.request(method, server.base + path, bearer: token, headers: [
                "Date: Fri, 31 Dec 99999 23:59:59 GMT", "If-Modified-Since: Fri, 31 Dec 99999 23:59:59 GMT",
                "Content-Type: application/json",
            ])
            #expect(answer.status < 500, "\(method) \(path): \(answer.status) \(answer.text)")
        }
        let garbage = try await HTTPClient.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST",
                                                "-H", "Content-Type: application/json", "--data", "{\"token\": [1, 2,",
                                                "\(server.base)/admin/session"])
        #expect(garbage.stdoutText == "401", "\(garbage.stdoutText)")
        // A 100 KB header: refused by the parser with 400, and the server stays up.
        let huge = try await HTTPClient.request("GET", server.base + "/healthz", headers: ["X-Huge: " + String(repeating: "x", count: 100_000)])
        #expect((400..<500).contains(huge.status), "\(huge.status)")
        #expect(try await server.get("/healthz").status == 200)
    }

    @Test("a failed backup: the body and /healthz name what failed without paths or upstream text; the server is idle and the next backup runs")
    func failureThenNextBackup() async throws {
        let dir = try TemporaryDirectory("serve-fail-next")
        defer { dir.remove() }
        let database = try ServerHarness.database(in: dir)
        // The store's folder is a regular file at first: every upload fails at its start.
        let store = dir.file("store")
        try Data("x".utf8).write(to: URL(fileURLWithPath: store))
        let server = try await ServerHarness.start(try ServerHarness.configuration(
            database: database, store: store, keys: nil, environment: ["CRON_SECRET": ServerHarness.cronSecret]))
        defer { Task { await server.stop() } }
        for _ in 0..<2 {
            let failed = try await server.send("POST", "/api/admin/backup", bearer: ServerHarness.staticToken)
            #expect(failed.status >= 500, "\(failed.text)")
            let body = try failed.json()
            let message = try #require(body["error"] as? String)
            #expect(message.hasPrefix("the backup failed: "), "\(message)")
            let requestID = try #require(body["request_id"] as? String)
            #expect(message.contains(requestID))
            #expect(!failed.text.contains(dir.path) && !failed.text.contains("/tmp"), "\(failed.text)")
            #expect(!failed.text.lowercased().contains("errno") && !failed.text.contains("Not a directory"), "\(failed.text)")
            let health = try await server.get("/healthz")
            #expect(try health.json()["status"] as? String == "failing")
            #expect(try health.json()["running"] is NSNull, "back to idle after a failure")
            #expect(!health.text.contains(dir.path) && !health.text.contains("Not a directory"), "\(health.text)")
        }
        // Fix the store: the next backup (admin and cron) runs, no 409.
        try FileManager.default.removeItem(atPath: store)
        let next = try await server.send("POST", "/api/admin/backup", bearer: ServerHarness.staticToken)
        #expect(next.status == 200, "\(next.text)")
        #expect(try await server.get("/api/cron/backup", bearer: ServerHarness.cronSecret).status == 200)
        #expect(try await server.get("/healthz").json()["status"] as? String == "ok")
        // The graceful stop after failures ends (no fatalError): the run task returns.
        await server.stop()
        let ended = (try? await server.task.value) != nil
        #expect(ended, "the server's run ended with an error after failed backups")
    }

    @Test("50 clients that start downloads and stop reading: the API keeps answering, and the stalled downloads are cut off")
    func stalledDownloads() async throws {
        let dir = try TemporaryDirectory("serve-stall")
        defer { dir.remove() }
        let database = try GracefulShutdownTests.largeDatabase(in: dir)
        var configuration = try ServerHarness.configuration(database: database, store: dir.file("store"), keys: nil)
        configuration.downloadStallSeconds = 3
        let server = try await ServerHarness.start(configuration)
        defer { Task { await server.stop() } }
        let created = try await server.send("POST", "/api/admin/backup", bearer: ServerHarness.staticToken)
        let key = try #require(try created.json()["key"] as? String)
        let encoded = key.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? key
        // 50 sockets that send the request and never read; the script reports when each one
        // was closed by the server (at most 60 s).
        let script = dir.file("stall.py")
        try """
            import socket, sys, time, threading
            port, path, token = int(sys.argv[1]), sys.argv[2], sys.argv[3]
            socks = []
            for _ in range(50):
                s = socket.create_connection(("127.0.0.1", port))
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                s.sendall(f"GET {path} HTTP/1.1\\r\\nHost: x\\r\\nAuthorization: Bearer {token}\\r\\n\\r\\n".encode())
                socks.append(s)
            open(sys.argv[4], "w").write("sent")
            time.sleep(8)  # not reading: the server's window fills and it stalls
            closed = 0
            for s in socks:
                s.settimeout(60)
                try:
                    while s.recv(1 << 20): pass
                    closed += 1
                except socket.timeout:
                    pass  # still open after 60 s: not cut off
                except OSError:
                    closed += 1  # reset by the server
            print(closed)
            """.write(toFile: script, atomically: true, encoding: .utf8)
        let marker = dir.file("sent")
        async let stalled = HTTPClient.run(["python3", script, String(server.port),
                                            "/api/admin/backup/\(encoded)/download", ServerHarness.staticToken, marker])
        for _ in 0..<100 where !FileManager.default.fileExists(atPath: marker) { try await Task.sleep(for: .milliseconds(100)) }
        try await Task.sleep(for: .seconds(1))
        // While they stall, the API answers (bounded by curl's --max-time; a hang would fail).
        for path in ["/healthz", "/api/admin/backup"] {
            let answer = try await HTTPClient.request("GET", server.base + path, bearer: ServerHarness.staticToken, timeout: 2)
            #expect(answer.status == 200, "\(path): \(answer.status)")
        }
        let result = try await stalled
        #expect(result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == "50", "\(result.stdoutText) \(result.stderrText)")
        // A whole download still works afterwards.
        let whole = try await server.get("/api/admin/backup/\(encoded)/download", bearer: ServerHarness.staticToken)
        let size = try created.json()["size"] as? Int
        #expect(whole.status == 200 && whole.body.count == size)
    }
}
