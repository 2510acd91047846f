import Backup
import Compression
import Encryption
import Foundation
import SQLiteDump

/// One database of a fleet, with every default of the file already applied: what the
/// scheduler backs up, where, when, and how long its backups are kept.
package struct FleetDatabase: Sendable {
    /// Unique in the fleet and safe in a URL path and an object key: `[A-Za-z0-9._-]`, 1–100
    /// characters, not starting with a dot. The API addresses the database by it.
    package var name: String
    /// A SQLite file's path, or `d1://ACCOUNT_ID/DATABASE`.
    package var source: String
    /// The store and the prefix this database's backups live under (one prefix per database).
    package var destination: BackupDestination
    /// nil: no built-in schedule for this database (manual and cron triggers only).
    package var schedule: CronSchedule?
    package var retention: RetentionPolicy
    package var dialect: Dialect
    package var compression: CompressionMethod
    /// nil: the method's default level.
    package var level: Int?
    /// Backups are age-encrypted to these when not empty.
    package var recipients: [AgeRecipient]

    package init(name: String, source: String, destination: BackupDestination, schedule: CronSchedule?,
                 retention: RetentionPolicy = RetentionPolicy(), dialect: Dialect = .sqlite,
                 compression: CompressionMethod = .gzip, level: Int? = nil, recipients: [AgeRecipient] = []) {
        self.name = name
        self.source = source
        self.destination = destination
        self.schedule = schedule
        self.retention = retention
        self.dialect = dialect
        self.compression = compression
        self.level = level
        self.recipients = recipients
    }

    /// Whether `name` may name a database (see `name`).
    package static func isValidName(_ name: String) -> Bool {
        guard (1...100).contains(name.utf8.count), !name.hasPrefix(".") else { return false }
        return name.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2E || c == 0x5F || c == 0x2D
        }
    }
}
