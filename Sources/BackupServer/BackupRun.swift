import Backup
import Foundation

/// The outcome of one backup the server ran (scheduled, cron endpoint or admin).
public struct BackupRun: Sendable {
    public var trigger: String
    public var started: Date
    public var finished: Date
    public var key: String?
    public var size: Int?
    public var deletedCount: Int?
    public var error: String?

    public var ok: Bool { error == nil }
    public var seconds: Double { finished.timeIntervalSince(started) }
}
