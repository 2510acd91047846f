import Backup
import Foundation
import Testing

@Suite("Encrypted backup keys")
struct EncryptedBackupKeyTests {
    let date = Date(timeIntervalSince1970: 1_705_284_000)  // 2024-01-15T02:00:00Z

    @Test("an encrypted backup's key ends in .age and parses as a compressed, encrypted backup")
    func naming() throws {
        let key = BackupKey.make(prefix: "backups/", date: date, sequence: 1, encrypted: true)
        #expect(key == "backups/database-2024-01-15-02-00-00-1.sql.gz.age")
        let parsed = try #require(BackupKey(key: key, prefix: "backups/"))
        #expect(parsed.encrypted && parsed.compressed && parsed.sequence == 1 && parsed.timestamp == date)
        #expect(BackupKey(key: "backups/database-2024-01-15-02-00-00.sql.gz", prefix: "backups/")?.encrypted == false)
        // Retention sorts them with the plain ones.
        let plain = try #require(BackupKey(key: "backups/database-2024-01-16-02-00-00.sql.gz", prefix: "backups/"))
        #expect(BackupKey.newestFirst(plain, parsed))
    }

    @Test("other suffixes after .age are not backups", arguments: [
        "backups/database-2024-01-15-02-00-00.sql.gz.age.meta.json", "backups/database-2024-01-15-02-00-00.age",
        "backups/database-2024-01-15-02-00-00.sql.gz.agex",
    ])
    func rejects(_ key: String) {
        #expect(BackupKey(key: key, prefix: "backups/") == nil)
    }
}
