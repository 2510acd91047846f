import Foundation
import SQLiteDump
import Support

/// The object metadata of a backup (`x-amz-meta-*`). The first three are the guide's contract;
/// the rest let `verify` and `restore` check what they read.
public enum BackupMetadata {
    public static let timestamp = "backup-timestamp"
    public static let size = "backup-size"
    public static let tablesCount = "tables-count"
    public static let rowsCount = "rows-count"
    public static let dialect = "dialect"
    public static let compression = "compression"
    public static let formatVersion = "format-version"
    public static let toolVersion = "tool-version"
    /// CRC-32 (decimal) of the uncompressed SQL text.
    public static let contentCRC32 = "content-crc32"
    public static let sqlBytes = "sql-bytes"

    /// ISO 8601 UTC with milliseconds, as the guide writes timestamps.
    public static func iso8601(_ date: Date) -> String { Timestamp.iso8601(date) }
}
