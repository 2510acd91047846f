import Foundation

/// Which backups a prune deletes: those older than `retentionDays` by the time in their key,
/// except the newest `keepLast`, which survive whatever their age — a month of failed backups
/// must not erase the last good one.
package struct RetentionPolicy: Sendable, Equatable {
    package var retentionDays: Int
    package var keepLast: Int

    package init(retentionDays: Int = 30, keepLast: Int = 3) {
        self.retentionDays = retentionDays
        self.keepLast = keepLast
    }

    package func expired(_ backups: [BackupKey], now: Date) -> [BackupKey] {
        let cutoff = now.addingTimeInterval(-Double(retentionDays) * 86_400)
        let newestFirst = backups.sorted(by: BackupKey.newestFirst)
        return newestFirst.dropFirst(max(0, keepLast)).filter { $0.timestamp < cutoff }
    }
}

extension BackupKey {
    /// Newest first: by time in the key, then by sequence within one second.
    package static func newestFirst(_ a: BackupKey, _ b: BackupKey) -> Bool {
        if a.timestamp != b.timestamp { return a.timestamp > b.timestamp }
        if a.sequence != b.sequence { return a.sequence > b.sequence }
        return a.key > b.key
    }
}
