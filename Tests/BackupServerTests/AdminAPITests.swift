import Backup
import BackupServer
import Foundation
import Testing
import TestSupport

/// The admin API of the guide, over real HTTP, against a folder store.
@Suite("Admin API", .serialized)
struct AdminAPITests {
    /// Every admin endpoint, as (method, path) with a real backup key filled in.
    static func endpoints(key: String) -> [(String, String)] {
        let encoded = key.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? key
        return [("GET", "/api/admin/backup"), ("POST", "/api/admin/backup"), ("DELETE", "/api/admin/backup"),
                ("GET", "/api/admin/backup/\(encoded)/download"), ("POST", "/api/admin/backup/\(encoded)/verify")]
    }

    @Test("every endpoint: missing, wrong, expired, forged and non-admin credentials are refused; valid ones accepted")
    func credentials() async throws {
        let dir = try TemporaryDirectory("serve-auth")
        defer { dir.remove() }
        let keys = try await TestKeys.make(in: dir)
        let otherKeys = try await TestKeys.make(in: dir, kid: "test-key", name: "other")
        let database = try ServerHarness.database(in: dir)
        let server = try await ServerHarness.start(try ServerHarness.configuration(database: database, store: dir.file("store"), keys: keys))
        defer { Task { await server.stop() } }
        let first = try await server.send("POST", "/api/admin/backup", bearer: ServerHarness.staticToken)
        #expect(first.status == 200, "\(first.text)")
        let key = try #require(try first.json()["key"] as? String)

        var expired = TestClaims.admin()
        expired.exp = .init(value: Date().addingTimeInterval(-120))
        var notYet = TestClaims.admin()
        notYet.nbf = .init(value: Date().addingTimeInterval(300))
        var wrongIssuer = TestClaims.admin()
        wrongIssuer.iss = .init(value: "https://evil.example")
        var wrongParty = TestClaims.admin()
        wrongParty.azp = "https://evil.example"
        var noExpiry = TestClaims.admin()
        noExpiry.exp = nil
        let refused: [(String, String?)] = [
            ("missing", nil),
            ("wrong static token", "not-the-token"),
            ("static token prefix", String(ServerHarness.staticToken.dropLast())),
            ("garbage", "a.b.c"),
            ("expired", try await keys.sign(expired)),
            ("not yet valid", try await keys.sign(notYet)),
            ("wrong issuer", try await keys.sign(wrongIssuer)),
            ("wrong authorized party", try await keys.sign(wrongParty)),
            ("no exp", try await keys.sign(noExpiry)),
            ("signed by another key", try await otherKeys.sign(TestClaims.admin())),
        ]
        var member = TestClaims.admin(role: "member")
        member.metadata = .init(role: "member")
        let forbidden: [(String, String)] = [
            ("no role", try await keys.sign(TestClaims.admin(role: nil))),
            ("role member", try await keys.sign(member)),
        ]
        for (method, path) in Self.endpoints(key: key) {
            for (label, token) in refused {
                let answer = try await server.send(method, path, bearer: token)
                #expect(answer.status == 401, "\(method) \(path) with \(label): \(answer.status) \(answer.text)")
                #expect((try? answer.json()["error"] as? String) != nil, "\(label): \(answer.text)")
            }
            for (label, token) in forbidden {
                let answer = try await server.send(method, path, bearer: token)
                #expect(answer.status == 403, "\(method) \(path) with \(label): \(answer.status) \(answer.text)")
                #expect((try? answer.json()["error"] as? String) != nil)
            }
        }
        // Accepted: the static token, and JWTs with the admin role in any of the three places.
        var metadataAdmin = TestClaims.admin(role: nil)
        metadataAdmin.metadata = .init(role: "admin")
        var publicAdmin = TestClaims.admin(role: nil)
        publicAdmin.public_metadata = .init(role: "admin")
        let accepted = [ServerHarness.staticToken, try await keys.sign(TestClaims.admin()),
                        try await keys.sign(metadataAdmin), try await keys.sign(publicAdmin)]
        for token in accepted {
            let list = try await server.get("/api/admin/backup", bearer: token)
            #expect(list.status == 200, "\(list.text)")
        }
        // A token is never echoed in an answer.
        let answer = try await server.get("/api/admin/backup", bearer: "secret-looking-token")
        #expect(!answer.text.contains("secret-looking-token"))
    }

    @Test("the JWKS can come from BACKSTREAM_JWKS_URL")
    func jwksFromURL() async throws {
        let dir = try TemporaryDirectory("serve-jwks-url")
        defer { dir.remove() }
        let keys = try await TestKeys.make(in: dir)
        let peer = try await LocalHTTPServer.start(in: dir)
        defer { peer.stop() }
        let database = try ServerHarness.database(in: dir)
        var configuration = try ServerHarness.configuration(database: database, store: dir.file("store"), keys: nil)
        try configuration.apply(environment: [
            "BACKSTREAM_JWKS_URL": peer.base + "/" + (keys.jwksFile as NSString).lastPathComponent,
            "BACKSTREAM_JWT_ISSUER": TestClaims.issuer,
        ])
        let server = try await ServerHarness.start(configuration)
        defer { Task { await server.stop() } }
        // The keys are fetched in the background from start (a JWKS outage must not stop `serve`),
        // and tokens get 503 until they arrive: wait for that first fetch, at most 10 s.
        var admin = try await server.get("/api/admin/backup", bearer: try await keys.sign(TestClaims.admin()))
        for _ in 0..<100 where admin.status == 503 {
            try await Task.sleep(for: .milliseconds(100))
            admin = try await server.get("/api/admin/backup", bearer: try await keys.sign(TestClaims.admin()))
        }
        #expect(admin.status == 200, "\(admin.text)")
        let member = try await server.get("/api/admin/backup", bearer: try await keys.sign(TestClaims.admin(role: "member")))
        #expect(member.status == 403, "\(member.text)")
        // No BACKSTREAM_JWT_AUTHORIZED_PARTIES here: any azp is accepted.
        var otherParty = TestClaims.admin()
        otherParty.azp = "https://elsewhere.example"
        #expect(try await server.get("/api/admin/backup", bearer: try await keys.sign(otherParty)).status == 200)
    }

    @Test("POST, GET, download, verify and DELETE answer the guide's shapes; the activity log records the admin")
    func guideShapes() async throws {
        let dir = try TemporaryDirectory("serve-shapes")
        defer { dir.remove() }
        let keys = try await TestKeys.make(in: dir)
        let database = try ServerHarness.database(in: dir)
        var configuration = try ServerHarness.configuration(database: database, store: dir.file("store"), keys: keys)
        configuration.retention = RetentionPolicy(retentionDays: 30, keepLast: 1)
        let server = try await ServerHarness.start(configuration)
        defer { Task { await server.stop() } }
        let token = try await keys.sign(TestClaims.admin(sub: "user_2abc"))

        // Two old backups the clean-up will delete (older than 30 days, not the newest).
        let oldKeys = ["backups/database-2020-01-01-02-00-00.sql.gz", "backups/database-2020-01-02-02-00-00.sql.gz"]
        for old in oldKeys {
            let path = dir.file("store/\(old)")
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data("old".utf8).write(to: URL(fileURLWithPath: path))
        }

        let created = try await server.send("POST", "/api/admin/backup", bearer: token)
        #expect(created.status == 200, "\(created.text)")
        let body = try created.json()
        let key = try #require(body["key"] as? String)
        #expect(key.hasPrefix("backups/database-") && key.hasSuffix(".sql.gz"))
        let size = try #require(body["size"] as? Int)
        #expect(size > 1000)
        let metadata = try #require(body["metadata"] as? [String: String])
        #expect(metadata["backup-size"] == String(size))
        #expect(Int(metadata["tables-count"] ?? "") ?? 0 >= 12)
        #expect(metadata["backup-timestamp"] != nil)

        let log = try TestDatabase(database).strings("SELECT action || ' ' || coalesce(user_id, '-') FROM activity_log ORDER BY id")
        #expect(log == ["database_backup_created user_2abc", "backups_cleaned_up user_2abc"], "\(log)")

        let list = try await server.get("/api/admin/backup", bearer: token)
        #expect(list.status == 200)
        let listing = try list.json()
        #expect(Array(listing.keys).sorted() == ["backups", "total"])
        let backups = try #require(listing["backups"] as? [[String: Any]])
        #expect(listing["total"] as? Int == backups.count)
        #expect(backups.count == 1, "the POST's prune keeps 1 and deletes the two old ones: \(list.text)")
        let entry = try #require(backups.first)
        #expect(Set(entry.keys) == ["key", "uploaded", "size", "size_kb", "size_mb", "metadata"])
        #expect(entry["key"] as? String == key)
        #expect(entry["size"] as? Int == size)
        #expect(entry["size_kb"] as? String == String(format: "%.2f", Double(size) / 1024))
        #expect(entry["size_mb"] as? String == String(format: "%.2f", Double(size) / 1_048_576))
        let listedMetadata = try #require(entry["metadata"] as? [String: String])
        #expect(listedMetadata["backup-size"] == String(size) && listedMetadata["tables-count"] == metadata["tables-count"])
        // The guide's field order.
        #expect(list.text.range(of: "\"key\"")?.lowerBound ?? list.text.endIndex < list.text.range(of: "\"uploaded\"")?.lowerBound ?? list.text.startIndex)

        // Download: the stored object byte for byte, key URL-encoded with its '/'; and unencoded.
        let stored = try Data(contentsOf: URL(fileURLWithPath: dir.file("store/\(key)")))
        let encoded = key.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? key
        for path in ["/api/admin/backup/\(encoded)/download", "/api/admin/backup/\(key)/download",
                     "/api/admin/backup/\((key as NSString).lastPathComponent)/download"] {
            let download = try await server.get(path, bearer: token)
            #expect(download.status == 200, "\(path)")
            #expect(download.body == stored, "\(path): \(download.body.count) bytes, stored \(stored.count)")
            #expect(download.headers["content-type"] == "application/gzip")
            #expect(download.headers["content-length"] == String(stored.count))
        }
        let gunzip = try await HTTPClient.run(["bash", "-o", "pipefail", "-c", "curl -s -H 'Authorization: Bearer \(ServerHarness.staticToken)' \(server.base)/api/admin/backup/\(encoded)/download | gunzip -c | tail -c 200"])
        #expect(gunzip.stdoutText.contains("Backstream dump complete"), "\(gunzip.stderrText)")
        for missing in ["backups%2Fdatabase-2001-01-01-00-00-00.sql.gz", "..%2F..%2Fetc%2Fpasswd", "backups%2F..%2Fapp.db", "other%2Fdatabase-2024-01-01-00-00-00.sql.gz"] {
            let answer = try await server.get("/api/admin/backup/\(missing)/download", bearer: token)
            #expect(answer.status == 404 || answer.status == 400, "\(missing): \(answer.status) \(answer.text)")
            #expect((try? answer.json()["error"] as? String) != nil)
        }

        let verified = try await server.send("POST", "/api/admin/backup/\(encoded)/verify", bearer: token)
        #expect(verified.status == 200, "\(verified.text)")
        let report = try verified.json()
        #expect(report["ok"] as? Bool == true)
        #expect(report["key"] as? String == key)
        #expect(report["integrity_check"] as? String == "ok")
        #expect(report["complete"] as? Bool == true)

        // DELETE: nothing left to delete now; then with two more old backups.
        for old in oldKeys { try Data("old".utf8).write(to: URL(fileURLWithPath: dir.file("store/\(old)"))) }
        let deleted = try await server.send("DELETE", "/api/admin/backup", bearer: token)
        #expect(deleted.status == 200)
        let pruned = try deleted.json()
        #expect(pruned["success"] as? Bool == true)
        #expect(pruned["deleted_count"] as? Int == 2)
        #expect(deleted.text.hasPrefix("{\"success\":true,\"deleted_count\":2"))
        let again = try await server.send("DELETE", "/api/admin/backup", bearer: token)
        #expect(try again.json()["deleted_count"] as? Int == 0)
    }

    @Test("a client that hangs up mid-download does not hurt the server; the next download is whole")
    func abandonedDownload() async throws {
        let dir = try TemporaryDirectory("serve-abandon")
        defer { dir.remove() }
        let database = try GracefulShutdownTests.largeDatabase(in: dir)
        let server = try await ServerHarness.start(try ServerHarness.configuration(database: database, store: dir.file("store"), keys: nil))
        defer { Task { await server.stop() } }
        let created = try await server.send("POST", "/api/admin/backup", bearer: ServerHarness.staticToken)
        let key = try #require(try created.json()["key"] as? String)
        let encoded = key.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? key
        let url = "\(server.base)/api/admin/backup/\(encoded)/download"
        for _ in 0..<3 {
            let cut = try await HTTPClient.run(["curl", "-s", "-o", "/dev/null", "--limit-rate", "200k", "--max-time", "1",
                                                "-H", "Authorization: Bearer \(ServerHarness.staticToken)", url])
            #expect(cut.status == 28, "curl should have timed out mid-body: \(cut.status)")
        }
        let whole = try await server.get("/api/admin/backup/\(encoded)/download", bearer: ServerHarness.staticToken)
        #expect(whole.status == 200)
        #expect(whole.body == (try Data(contentsOf: URL(fileURLWithPath: dir.file("store/\(key)")))))
    }

    @Test("two concurrent POSTs: one 200, one 409 naming the running job's start")
    func oneAtATime() async throws {
        let dir = try TemporaryDirectory("serve-busy")
        defer { dir.remove() }
        // A backup that takes a second or two, so the two requests surely overlap.
        let database = try GracefulShutdownTests.largeDatabase(in: dir)
        let server = try await ServerHarness.start(try ServerHarness.configuration(database: database, store: dir.file("store"), keys: nil))
        defer { Task { await server.stop() } }
        async let a = server.send("POST", "/api/admin/backup", bearer: ServerHarness.staticToken)
        async let b = server.send("POST", "/api/admin/backup", bearer: ServerHarness.staticToken)
        let answers = try await [a, b]
        #expect(answers.map(\.status).sorted() == [200, 409], "\(answers.map(\.text))")
        let conflict = try #require(answers.first { $0.status == 409 })
        let body = try conflict.json()
        #expect(body["error"] as? String == "a backup is already running")
        let started = try #require(body["started"] as? String)
        #expect(started.hasSuffix("Z") && started.count == 24, "\(started)")
        // And once it finished, the next one runs.
        let later = try await server.send("POST", "/api/admin/backup", bearer: ServerHarness.staticToken)
        #expect(later.status == 200)
    }

    @Test("a burst of requests is rate-limited with 429 and Retry-After")
    func rateLimit() async throws {
        let dir = try TemporaryDirectory("serve-rate")
        defer { dir.remove() }
        let database = try ServerHarness.database(in: dir)
        var configuration = try ServerHarness.configuration(database: database, store: dir.file("store"), keys: nil)
        configuration.rateLimitBurst = 3
        configuration.rateLimitPerSecond = 0.01
        let server = try await ServerHarness.start(configuration)
        defer { Task { await server.stop() } }
        var statuses: [Int] = []
        for _ in 0..<6 {
            let answer = try await server.send("DELETE", "/api/admin/backup", bearer: "wrong-token")
            statuses.append(answer.status)
            if answer.status == 429 {
                #expect(Int(answer.headers["retry-after"] ?? "") ?? 0 > 0)
                #expect(answer.text.contains("too many requests"))
            }
        }
        #expect(statuses == [401, 401, 401, 429, 429, 429])
        // Listing does not start work and is not limited.
        let list = try await server.get("/api/admin/backup", bearer: ServerHarness.staticToken)
        #expect(list.status == 200)
    }
}
