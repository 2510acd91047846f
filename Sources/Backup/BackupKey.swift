import Compression
import Foundation

/// Object keys of backups: `<prefix>database-YYYY-MM-DD-HH-MM-SS[-N].sql.gz`, UTC, as the guide
/// names them (`.sql.zst` for zstd backups; `.sql` keys of the system it replaces are recognised
/// too; `.age` follows an age-encrypted one). Only keys of this shape are ever listed as backups
/// or deleted by retention.
package struct BackupKey: Sendable, Equatable {
    package let key: String
    package let timestamp: Date
    package let sequence: Int
    /// What the name says; restore and verify go by the object's first bytes instead.
    package let compression: CompressionMethod
    package var compressed: Bool { compression != .none }
    /// The key ends in `.age`: the object is age-encrypted (readers still go by its first line).
    package let encrypted: Bool

    /// The object's Content-Type: the compression's, unless age makes it opaque bytes.
    package static func contentType(compression: CompressionMethod, encrypted: Bool) -> String {
        encrypted ? "application/octet-stream" : compression.contentType
    }
    package var contentType: String { Self.contentType(compression: compression, encrypted: encrypted) }

    /// The key for a backup started at `date`; `sequence` > 0 keeps two backups started in the
    /// same second apart.
    package static func make(prefix: String, date: Date, sequence: Int = 0, compression: CompressionMethod = .gzip,
                             encrypted: Bool = false) -> String {
        let c = Calendar.utc.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let stamp = String(format: "%04d-%02d-%02d-%02d-%02d-%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0,
                           c.hour ?? 0, c.minute ?? 0, c.second ?? 0)
        return "\(prefix)database-\(stamp)\(sequence > 0 ? "-\(sequence)" : "").sql\(compression.nameSuffix)\(encrypted ? ".age" : "")"
    }

    /// Parses a key directly under `prefix`; nil for anything that is not a backup.
    package init?(key: String, prefix: String) {
        guard key.hasPrefix(prefix) else { return nil }
        var name = Substring(key.dropFirst(prefix.count))
        guard name.hasPrefix("database-") else { return nil }
        name = name.dropFirst("database-".count)
        encrypted = name.hasSuffix(".age")
        if encrypted { name = name.dropLast(".age".count) }
        guard let method = CompressionMethod.allCases.first(where: { name.hasSuffix(".sql\($0.nameSuffix)") }) else { return nil }
        compression = method
        name = name.dropLast(".sql\(method.nameSuffix)".count)
        let parts = name.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 6 || parts.count == 7 else { return nil }
        let lengths = [4, 2, 2, 2, 2, 2]
        var numbers: [Int] = []
        for (part, length) in zip(parts.prefix(6), lengths) {
            guard part.count == length, part.allSatisfy(\.isASCII), let n = Int(part) else { return nil }
            numbers.append(n)
        }
        if parts.count == 7 {
            guard let n = Int(parts[6]), n > 0, parts[6].allSatisfy(\.isNumber) else { return nil }
            sequence = n
        } else {
            sequence = 0
        }
        let components = DateComponents(calendar: .utc, timeZone: TimeZone(identifier: "UTC"), year: numbers[0], month: numbers[1],
                                        day: numbers[2], hour: numbers[3], minute: numbers[4], second: numbers[5])
        guard components.isValidDate, let date = components.date else { return nil }
        self.key = key
        timestamp = date
    }
}

extension Calendar {
    static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        return calendar
    }()
}
