import Backup
import Foundation
import Testing

@Suite("Backup keys and retention")
struct BackupKeyTests {
    let date = Date(timeIntervalSince1970: 1_705_284_000)  // 2024-01-15T02:00:00Z

    @Test("keys follow the guide's naming, in UTC, with a suffix for the same second")
    func naming() {
        #expect(BackupKey.make(prefix: "backups/", date: date) == "backups/database-2024-01-15-02-00-00.sql.gz")
        #expect(BackupKey.make(prefix: "backups/", date: date, sequence: 2) == "backups/database-2024-01-15-02-00-00-2.sql.gz")
        let parsed = BackupKey(key: "backups/database-2024-01-15-02-00-00-2.sql.gz", prefix: "backups/")
        #expect(parsed?.timestamp == date)
        #expect(parsed?.sequence == 2)
        #expect(BackupKey(key: "backups/database-2024-01-15-02-00-00.sql", prefix: "backups/")?.compressed == false)
    }

    @Test("zstd backups are .sql.zst keys, parsed as backups like .sql.gz ones")
    func zstdNaming() {
        let key = BackupKey.make(prefix: "backups/", date: date, sequence: 1, compression: .zstd)
        #expect(key == "backups/database-2024-01-15-02-00-00-1.sql.zst")
        let parsed = BackupKey(key: key, prefix: "backups/")
        #expect(parsed?.timestamp == date)
        #expect(parsed?.sequence == 1)
        #expect(parsed?.compression == .zstd)
        #expect(parsed?.compressed == true)
        for other in ["backups/database-2024-01-15-02-00-00.sql.zstd", "backups/database-2024-01-15-02-00-00.zst",
                      "backups/database-2024-01-15-02-00-00.sql.zst.meta.json", "backups/database-2024-01-15-02-00-00.sql.zst.bak"] {
            #expect(BackupKey(key: other, prefix: "backups/") == nil, "\(other)")
        }
    }

    @Test("anything else is not a backup", arguments: [
        "backups/notes.txt", "backups/database-notes.sql.gz", "backups/database-2024-13-15-02-00-00.sql.gz",
        "backups/database-2024-02-30-02-00-00.sql.gz", "backups/sub/database-2024-01-15-02-00-00.sql.gz",
        "other/database-2024-01-15-02-00-00.sql.gz", "backups/database-2024-01-15-02-00-00.sql.gz.meta.json",
        "backups/database-2024-01-15-02-00-00-x.sql.gz", "backups/database-2024-1-15-02-00-00.sql.gz",
    ])
    func rejects(_ key: String) {
        #expect(BackupKey(key: key, prefix: "backups/") == nil)
    }

    @Test("retention deletes what is old but always keeps the newest N")
    func retention() {
        let now = date
        let keys = (0..<10).compactMap { day in
            BackupKey(key: BackupKey.make(prefix: "b/", date: now.addingTimeInterval(-Double(day) * 86_400 * 10)), prefix: "b/")
        }
        // Ages 0, 10, …, 90 days: 30-day retention keeps ages 0–30 (4), deletes 6.
        #expect(RetentionPolicy(retentionDays: 30, keepLast: 3).expired(keys, now: now).count == 6)
        // All past retention: the newest three survive whatever their age.
        let old = keys.compactMap { BackupKey(key: BackupKey.make(prefix: "b/", date: $0.timestamp.addingTimeInterval(-400 * 86_400)), prefix: "b/") }
        let expired = RetentionPolicy(retentionDays: 30, keepLast: 3).expired(old, now: now)
        #expect(expired.count == 7)
        #expect(Set(old.prefix(3).map(\.key)).isDisjoint(with: expired.map(\.key)))
    }

    @Test("list JSON has the guide's shape")
    func listShape() {
        let json = BackupListing.json([]).rendered
        #expect(json == #"{"backups":[],"total":0}"#)
    }
}
