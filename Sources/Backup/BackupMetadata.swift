import Foundation
import SQLiteDump
import Support

/// The object metadata of a backup (`x-amz-meta-*`). The first three are the guide's contract;
/// the rest let `verify` and `restore` check what they read.
package enum BackupMetadata {
    package static let timestamp = "backup-timestamp"
    package static let size = "backup-size"
    package static let tablesCount = "tables-count"
    package static let rowsCount = "rows-count"
    package static let dialect = "dialect"
    package static let compression = "compression"
    package static let formatVersion = "format-version"
    package static let toolVersion = "tool-version"
    /// CRC-32 (decimal) of the uncompressed SQL text.
    package static let contentCRC32 = "content-crc32"
    package static let sqlBytes = "sql-bytes"
    /// `age` when the object is encrypted (absent otherwise).
    package static let encryption = "encryption"
    /// The age recipients (public keys, comma-separated) the object is encrypted to.
    package static let recipients = "age-recipients"

    /// ISO 8601 UTC with milliseconds, as the guide writes timestamps.
    package static func iso8601(_ date: Date) -> String { Timestamp.iso8601(date) }
}
