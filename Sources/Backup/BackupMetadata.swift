import Foundation

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
    public static let source = "source"

    /// ISO 8601 UTC with milliseconds, as the guide writes timestamps.
    public static func iso8601(_ date: Date) -> String {
        let millis = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        let seconds = Date(timeIntervalSince1970: Double(millis / 1000))
        let c = Calendar.utc.dateComponents([.year, .month, .day, .hour, .minute, .second], from: seconds)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", c.year ?? 0, c.month ?? 0, c.day ?? 0,
                      c.hour ?? 0, c.minute ?? 0, c.second ?? 0, Int(millis % 1000))
    }
}
