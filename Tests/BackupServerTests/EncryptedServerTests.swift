import Backup
@testable import BackupServer
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TestSupport

/// `serve` with BACKSTREAM_AGE_RECIPIENTS and BACKSTREAM_AGE_IDENTITY: what it stores, serves
/// and verifies, and that no secret leaves it.
@Suite("Encrypted backups on the server")
struct EncryptedServerTests {
    @Test("backups are encrypted to the recipients, downloads stay the object, verify needs the identity")
    func encryptedBackups() async throws {
        let dir = try TemporaryDirectory("server-age")
        defer { dir.remove() }
        let keyFile = dir.file("key.txt")
        #expect(try ProcessRunner.run(["age-keygen", "-o", keyFile]).status == 0)
        let recipient = try ProcessRunner.run(["age-keygen", "-y", keyFile]).stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        let secret = try #require(try String(contentsOfFile: keyFile, encoding: .utf8).split(separator: "\n").first { $0.hasPrefix("AGE-SECRET-KEY-1") })
        let harness = try RouterHarness("server-age", environment: ["BACKSTREAM_AGE_RECIPIENTS": recipient, "BACKSTREAM_AGE_IDENTITY": keyFile], in: dir)
        let name = try await harness.test { client in
            let created = try await client.execute(uri: "/api/admin/backup", method: .post, headers: RouterHarness.admin) { response in
                #expect(response.status == .ok, "\(response.text)")
                return try response.json()
            }
            let key = try #require(created["key"] as? String)
            #expect(key.hasSuffix(".sql.gz.age"))
            let metadata = try #require(created["metadata"] as? [String: String])
            #expect(metadata["encryption"] == "age" && metadata["age-recipients"] == recipient && metadata["tables-count"] == nil)
            let stored = try Data(contentsOf: URL(fileURLWithPath: dir.file("store/\(key)")))
            #expect(stored.starts(with: Data("age-encryption.org/v1\n".utf8)))
            let name = (key as NSString).lastPathComponent
            try await client.execute(uri: "/api/admin/backup/\(name)/download", method: .get, headers: RouterHarness.admin) { response in
                #expect(Data(response.body.readableBytesView) == stored)
                #expect(response.headers[.contentType] == "application/octet-stream")
            }
            try await client.execute(uri: "/api/admin/backup/\(name)/verify", method: .post, headers: RouterHarness.admin) { response in
                #expect(response.status == .ok, "\(response.text)")
                let answer = try response.json()
                #expect(answer["ok"] as? Bool == true)
            }
            for path in ["/healthz", "/metrics"] {
                try await client.execute(uri: path, method: .get) { response in
                    #expect(!response.text.contains(secret) && !response.text.contains("AGE-SECRET-KEY"), "\(path)")
                }
            }
            return name
        }
        // Without the identity the same backup does not verify, and the answer says why.
        let destination = harness.configuration.destination
        let keyless = try RouterHarness("server-age-keyless") { $0.destination = destination }
        defer { keyless.dir.remove() }
        try await keyless.test { client in
            try await client.execute(uri: "/api/admin/backup/\(name)/verify", method: .post, headers: RouterHarness.admin) { response in
                #expect(response.status == .unprocessableContent, "\(response.text)")
                #expect(response.text.contains("no identity"))
            }
        }
    }

    @Test("a bad recipient or identity file is a configuration error that names the variable, never a key")
    func badConfiguration() throws {
        let dir = try TemporaryDirectory("server-age-config")
        defer { dir.remove() }
        try "AGE-SECRET-KEY-1NOTAKEY\n".write(toFile: dir.file("bad.txt"), atomically: true, encoding: .utf8)
        for environment in [["BACKSTREAM_AGE_RECIPIENTS": "age1notakey"], ["BACKSTREAM_AGE_IDENTITY": dir.file("bad.txt")],
                            ["BACKSTREAM_AGE_IDENTITY": dir.file("missing.txt")]] {
            var configuration = ServerConfiguration(databasePath: dir.file("db"), destination: try BackupDestination.resolve(dir.file("store"), environment: [:]))
            do {
                try configuration.apply(environment: environment)
                Issue.record("accepted \(environment)")
            } catch {
                let text = "\(error)"
                #expect(text.contains(environment.keys.first ?? "?"), "\(text)")
                #expect(!text.contains("NOTAKEY"), "\(text)")
            }
        }
    }
}
