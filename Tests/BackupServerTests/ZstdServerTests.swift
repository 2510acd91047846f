import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TestSupport

@Suite("serve with zstd")
struct ZstdServerTests {
    @Test("--compression zstd backs up to .sql.zst; list, download and verify handle it, and verify goes by the magic bytes")
    func zstdBackups() async throws {
        let harness = try RouterHarness("router-zstd") { $0.compression = .zstd }
        defer { harness.dir.remove() }
        let store = harness.dir.file("store")
        try await harness.test { client in
            let created = try await client.execute(uri: "/api/admin/backup", method: .post, headers: RouterHarness.admin) { response in
                #expect(response.status == .ok, "\(response.text)")
                return try response.json()
            }
            let key = try #require(created["key"] as? String)
            #expect(key.hasSuffix(".sql.zst"))
            #expect((created["metadata"] as? [String: String])?["compression"] == "zstd")
            let name = (key as NSString).lastPathComponent
            try await client.execute(uri: "/api/admin/backup", method: .get, headers: RouterHarness.admin) { response in
                let listing = try response.json()
                #expect(listing["total"] as? Int == 1)
            }
            try await client.execute(uri: "/api/admin/backup/\(name)/download", method: .get, headers: RouterHarness.admin) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/zstd")
                let file = harness.dir.file("download.zst")
                try Data(response.body.readableBytesView).write(to: URL(fileURLWithPath: file))
                #expect(try ProcessRunner.shell("zstd -t '\(file)'").status == 0)
            }

            // The same SQL as gzip under a .sql.zst name: the server reads the bytes, not the name.
            let sql = try ProcessRunner.shell("zstd -dc '\(store)/\(key)' | gzip -c > '\(store)/backups/database-2026-01-01-00-00-00.sql.zst'")
            #expect(sql.status == 0)
            for verified in [name, "database-2026-01-01-00-00-00.sql.zst"] {
                try await client.execute(uri: "/api/admin/backup/\(verified)/verify", method: .post, headers: RouterHarness.admin) { response in
                    #expect(response.status == .ok, "\(response.text)")
                    let report = try response.json()
                    #expect(report["ok"] as? Bool == true, "\(verified): \(response.text)")
                }
            }
        }
    }
}
