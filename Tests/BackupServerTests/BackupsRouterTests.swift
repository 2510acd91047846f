import Backup
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import TestSupport

/// `/api/admin/backup` through the router in-process: every route's success and refusals.
@Suite("Router: backups API")
struct BackupsRouterTests {
    static let routes: [(HTTPRequest.Method, String)] = [
        (.get, "/api/admin/backup"), (.post, "/api/admin/backup"), (.delete, "/api/admin/backup"),
        (.get, "/api/admin/backup/database-2024-01-01-00-00-00.sql.gz/download"),
        (.post, "/api/admin/backup/database-2024-01-01-00-00-00.sql.gz/verify"),
    ]

    @Test("every route refuses missing and wrong credentials (401, WWW-Authenticate) and a member token (403)")
    func refusals() async throws {
        let dir = try TemporaryDirectory("router-refusals")
        defer { dir.remove() }
        let keys = try await TestKeys.make(in: dir)
        let harness = try RouterHarness("router-refusals", keys: keys, in: dir)
        let member = try await keys.sign(TestClaims.admin(sub: "user_member", role: "member"))
        try await harness.test { client in
            for (method, path) in Self.routes {
                for headers in [[:], RouterHarness.bearer("wrong-token"), [.authorization: "Basic abc"]] as [HTTPFields] {
                    try await client.execute(uri: path, method: method, headers: headers) { response in
                        #expect(response.status == .unauthorized, "\(method) \(path): \(response.text)")
                        #expect(response.headers[.wwwAuthenticate] == "Bearer")
                        let error = try response.json()["error"] as? String
                        #expect(error?.hasPrefix("unauthorized") == true)
                    }
                }
                try await client.execute(uri: path, method: method, headers: RouterHarness.bearer(member)) { response in
                    #expect(response.status == .forbidden, "\(method) \(path): \(response.text)")
                    let error = try response.json()["error"] as? String
                    #expect(error == "forbidden: admin role required")
                }
            }
        }
    }

    @Test("list, create, download, verify and clean up: the guide's shapes")
    func successPaths() async throws {
        let harness = try RouterHarness("router-backups")
        defer { harness.dir.remove() }
        let store = harness.dir.file("store")
        try await harness.test { client in
            try await client.execute(uri: "/api/admin/backup", method: .get, headers: RouterHarness.admin) { response in
                #expect(response.status == .ok)
                #expect(response.text == "{\"backups\":[],\"total\":0}\n")
                #expect(response.headers[.cacheControl] == "no-store")
                #expect(response.headers[.contentType] == "application/json; charset=utf-8")
            }
            let created = try await client.execute(uri: "/api/admin/backup", method: .post, headers: RouterHarness.admin) { response in
                #expect(response.status == .ok, "\(response.text)")
                #expect(response.text.hasPrefix("{\"success\":true,\"key\":\"backups/database-"))
                return try response.json()
            }
            #expect(Set(created.keys) == ["success", "key", "size", "metadata", "deleted_count"])
            let key = try #require(created["key"] as? String)
            let size = try #require(created["size"] as? Int)
            #expect((created["metadata"] as? [String: String])?["backup-size"] == String(size))
            #expect(created["deleted_count"] as? Int == 0)

            try await client.execute(uri: "/api/admin/backup", method: .get, headers: RouterHarness.admin) { response in
                let listing = try response.json()
                #expect(listing["total"] as? Int == 1)
                let entry = try #require((listing["backups"] as? [[String: Any]])?.first)
                #expect(Set(entry.keys) == ["key", "uploaded", "size", "size_kb", "size_mb", "metadata"])
                #expect(entry["key"] as? String == key && entry["size"] as? Int == size)
                #expect(entry["size_kb"] as? String == String(format: "%.2f", Double(size) / 1024))
                #expect(response.text.contains("\"metadata\":{\"backup-timestamp\":"), "guide order: \(response.text)")
            }
            let stored = try Data(contentsOf: URL(fileURLWithPath: store + "/" + key))
            let name = (key as NSString).lastPathComponent
            for path in ["/api/admin/backup/\(name)/download", "/api/admin/backup/backups%2F\(name)/download"] {
                try await client.execute(uri: path, method: .get, headers: RouterHarness.admin) { response in
                    #expect(response.status == .ok, "\(path)")
                    #expect(Data(response.body.readableBytesView) == stored)
                    #expect(response.headers[.contentType] == "application/gzip")
                    #expect(response.headers[.contentDisposition] == "attachment; filename=\"\(name)\"")
                }
            }
            try await client.execute(uri: "/api/admin/backup/\(name)/verify", method: .post, headers: RouterHarness.admin) { response in
                #expect(response.status == .ok, "\(response.text)")
                let report = try response.json()
                #expect(report["ok"] as? Bool == true && report["key"] as? String == key)
                #expect(report["integrity_check"] as? String == "ok" && report["complete"] as? Bool == true)
                #expect(report.keys.contains("expected_crc32") && report.keys.contains("source_foreign_key_violations"))
                #expect(report["problems"] as? [String] == [] && report["notes"] is [String])
            }
            try await client.execute(uri: "/api/admin/backup", method: .delete, headers: RouterHarness.admin) { response in
                #expect(response.status == .ok)
                #expect(response.text == "{\"success\":true,\"deleted_count\":0,\"deleted\":[]}\n")
            }
        }
    }

    @Test("bad keys: 400 for a non-backup or control characters, 404 for an unknown backup, another folder or a missing action")
    func badKeys() async throws {
        let harness = try RouterHarness("router-keys")
        defer { harness.dir.remove() }
        try await harness.test { client in
            let cases: [(HTTPRequest.Method, String, HTTPResponse.Status)] = [
                (.get, "/api/admin/backup/not-a-backup.txt/download", .badRequest),
                (.post, "/api/admin/backup/not-a-backup.txt/verify", .badRequest),
                (.get, "/api/admin/backup/database%0A-2024/download", .badRequest),
                (.get, "/api/admin/backup/database-2024-01-01-00-00-00.sql.gz/download", .notFound),
                (.post, "/api/admin/backup/database-2024-01-01-00-00-00.sql.gz/verify", .notFound),
                (.get, "/api/admin/backup/other%2Fdatabase-2024-01-01-00-00-00.sql.gz/download", .notFound),
                (.get, "/api/admin/backup/backups%2F..%2Fdatabase-2024-01-01-00-00-00.sql.gz/download", .notFound),
                (.get, "/api/admin/backup/database-2024-01-01-00-00-00.sql.gz", .notFound),
            ]
            for (method, path, status) in cases {
                try await client.execute(uri: path, method: method, headers: RouterHarness.admin) { response in
                    #expect(response.status == status, "\(method) \(path): \(response.status) \(response.text)")
                    let body = try response.json()
                    #expect(body["error"] is String && body["request_id"] is String, "\(response.text)")
                }
            }
        }
    }

    @Test("failures take from the peer's bucket (429 + Retry-After); work-starting requests from the identity's")
    func rateLimits() async throws {
        let harness = try RouterHarness("router-limits") { configuration in
            configuration.rateLimitBurst = 2
            configuration.rateLimitPerSecond = 0.01
        }
        defer { harness.dir.remove() }
        try await harness.test { client in
            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<3 {
                try await client.execute(uri: "/api/admin/backup", method: .delete, headers: RouterHarness.bearer("wrong")) { response in
                    statuses.append(response.status)
                    if response.status == .tooManyRequests {
                        #expect(Int(response.headers[.retryAfter] ?? "") ?? 0 > 0)
                        let error = try response.json()["error"] as? String
                        #expect(error?.hasPrefix("too many requests; retry in ") == true)
                    }
                }
            }
            #expect(statuses == [.unauthorized, .unauthorized, .tooManyRequests])
            // The admin is not held back by those failures; reads are never limited.
            for _ in 0..<4 {
                try await client.execute(uri: "/api/admin/backup", method: .get, headers: RouterHarness.admin) { response in
                    #expect(response.status == .ok)
                }
            }
            statuses = []
            for _ in 0..<3 {
                try await client.execute(uri: "/api/admin/backup", method: .delete, headers: RouterHarness.admin) { response in
                    statuses.append(response.status)
                    if response.status == .tooManyRequests { #expect(Int(response.headers[.retryAfter] ?? "") ?? 0 > 0) }
                }
            }
            #expect(statuses == [.ok, .ok, .tooManyRequests])
        }
    }
}
