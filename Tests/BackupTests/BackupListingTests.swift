import Backup
import Foundation
import ObjectStore
import Testing
import TestSupport

@Suite("backup listing, in process")
struct BackupListingTests {
    private static let base = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01 00:00:00 UTC
    private static func key(hours: Double, sequence: Int = 0, plain: Bool = false) -> String {
        let key = BackupKey.make(prefix: "backups/", date: base.addingTimeInterval(hours * 3600), sequence: sequence)
        return plain ? String(key.dropLast(".gz".count)) : key
    }

    @Test("newest first by the time in the key, then by sequence; .sql keys count; nothing else is a backup")
    func orderAndFilter() throws {
        let fixture = try JobFixture("job-listing-order")
        defer { fixture.remove() }
        let newestFirst = [Self.key(hours: 30), Self.key(hours: 5, sequence: 2), Self.key(hours: 5, sequence: 1),
                           Self.key(hours: 5), Self.key(hours: 4, plain: true), Self.key(hours: -200)]
        let others = ["backups/database-latest.sql.gz", "backups/database-2026-01-01-00-00-00.tar.gz",
                      "backups/database-2026-13-01-00-00-00.sql.gz", "backups/database-2026-01-01-00-00-00-0.sql.gz",
                      "backups/nested/database-2026-01-01-00-00-00.sql.gz", "backupsdatabase-2026-01-01-00-00-00.sql.gz",
                      "elsewhere/database-2026-01-01-00-00-00.sql.gz"]
        for key in (newestFirst + others).shuffled() {
            try fixture.store.put(key: key, bytes: [7], metadata: [:], contentType: "application/gzip")
        }
        let entries = try BackupListing.entries(in: fixture.store, prefix: "backups/")
        #expect(entries.map(\.info.key) == newestFirst)
        #expect(entries.map(\.key.sequence) == [0, 2, 1, 0, 0, 0])
        #expect(entries.map(\.key.compressed) == [true, true, true, true, false, true])
        #expect(entries.first?.key.timestamp == Self.base.addingTimeInterval(30 * 3600))
        #expect(BackupListing.json(entries).rendered.hasSuffix(#","total":6}"#))
        #expect(try BackupListing.entries(in: fixture.store, prefix: "nothing-here/").isEmpty)
    }

    @Test("metadata is read back as stored and shown in the guide's order; missing size and timestamp are filled in")
    func metadata() throws {
        let fixture = try JobFixture("job-listing-metadata")
        defer { fixture.remove() }
        let described = Self.key(hours: 2), bare = Self.key(hours: 1)
        let metadata = ["rows-count": "15607", "backup-size": "2048", "tables-count": "11", "backup-timestamp": "2026-01-01T02:00:00.123Z",
                        "a-first-custom": "x"]
        try fixture.store.put(key: described, bytes: Array(repeating: 1, count: 2048), metadata: metadata, contentType: "application/gzip")
        try fixture.store.put(key: bare, bytes: Array(repeating: 2, count: 1536), metadata: [:], contentType: "application/gzip")

        let entries = try BackupListing.entries(in: fixture.store, prefix: "backups/")
        #expect(entries.map(\.info.key) == [described, bare])
        #expect(entries.first?.info.metadata == metadata)
        #expect(entries.first?.info.size == 2048)
        #expect(entries.last?.info.metadata.isEmpty == true)

        let describedJSON = try #require(entries.first).json.rendered
        #expect(describedJSON.contains(#""size":2048,"size_kb":"2.00","size_mb":"0.00""#))
        #expect(describedJSON.contains(#""metadata":{"backup-timestamp":"2026-01-01T02:00:00.123Z","backup-size":"2048","tables-count":"11","a-first-custom":"x","rows-count":"15607"}"#),
                "\(describedJSON)")
        let bareJSON = try #require(entries.last).json.rendered
        #expect(bareJSON.contains(#""size":1536,"size_kb":"1.50""#))
        #expect(bareJSON.contains(#""metadata":{"backup-timestamp":"2026-01-01T01:00:00.000Z","backup-size":"1536"}"#), "\(bareJSON)")
        // The upload time is the object's, as ISO 8601 with milliseconds.
        let object = try #require(try JSONSerialization.jsonObject(with: Data(bareJSON.utf8)) as? [String: Any])
        let uploaded = try #require(object["uploaded"] as? String)
        let date = try #require(ISO8601DateFormatter.fractional.date(from: uploaded))
        #expect(abs(date.timeIntervalSinceNow) < 300)
    }

    @Test("moto: a listing carries no metadata, so each backup is read with HEAD unless asked not to")
    func s3Metadata() throws {
        let moto = try motoDestination("job-listing-meta")
        let scratch = try TemporaryDirectory("job-listing-s3")
        defer { scratch.remove() }
        let body = scratch.file("body")
        #expect(FileManager.default.createFile(atPath: body, contents: Data(repeating: 3, count: 100)))
        let keys = [Self.key(hours: 9), Self.key(hours: 8)]
        for (n, key) in keys.enumerated() {
            let put = try moto.server.aws(["s3api", "put-object", "--bucket", moto.bucket, "--key", key, "--body", body,
                                           "--metadata", "tables-count=\(n + 1),rows-count=\(n * 10)"])
            #expect(put.status == 0, "\(put.stderrText)")
        }
        let entries = try BackupListing.entries(in: moto.destination.store, prefix: "backups/")
        #expect(entries.map(\.info.key) == keys)
        #expect(entries.map(\.info.metadata) == [["tables-count": "1", "rows-count": "0"], ["tables-count": "2", "rows-count": "10"]])
        #expect(entries.allSatisfy { $0.info.size == 100 })
        let bare = try BackupListing.entries(in: moto.destination.store, prefix: "backups/", withMetadata: false)
        #expect(bare.map(\.info.key) == keys)
        #expect(bare.allSatisfy { $0.info.metadata.isEmpty })
    }

    @Test("moto: a listing over more than one page (1,000 keys) has every backup, in order, and no other key")
    func s3Pages() throws {
        let moto = try motoDestination("job-listing-pages")
        let scratch = try TemporaryDirectory("job-listing-pages")
        defer { scratch.remove() }
        // One hour apart, so key order and time order agree and sorting has real work to do.
        let keys = (0..<1_030).map { Self.key(hours: Double($0)) }
        let others = ["backups/notes.txt", "backups/sub/database-2026-01-01-00-00-00.sql.gz", "backups/database-2026-01-01.sql.gz"]
        for key in keys + others {
            let path = scratch.file("tree/" + key)
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            #expect(FileManager.default.createFile(atPath: path, contents: Data(key.utf8)))
        }
        let copy = try moto.server.aws(["s3", "cp", "--recursive", "--only-show-errors", scratch.file("tree"), "s3://\(moto.bucket)/"])
        #expect(copy.status == 0, "\(copy.stderrText)")

        let objects = try moto.destination.store.list(prefix: "backups")
        #expect(objects.count == keys.count + others.count)
        let entries = try BackupListing.entries(in: moto.destination.store, prefix: "backups/", withMetadata: false)
        #expect(entries.count == keys.count)
        #expect(entries.map(\.info.key) == keys.reversed())
        #expect(entries.allSatisfy { $0.info.size == $0.info.key.utf8.count })
    }
}
