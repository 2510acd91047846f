import Backup
import Foundation

/// The outcome of one backup the server ran (scheduled, cron endpoint or admin).
package struct BackupRun: Sendable {
    package var trigger: String
    package var started: Date
    package var finished: Date
    package var key: String?
    package var size: Int?
    package var deletedCount: Int?
    package var error: String?

    package var ok: Bool { error == nil }
    package var seconds: Double { finished.timeIntervalSince(started) }
}
