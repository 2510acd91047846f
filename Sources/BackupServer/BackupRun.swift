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

    public var json: JSONValue {
        .object([
            ("trigger", .string(trigger)), ("ok", .bool(ok)),
            ("started", .string(BackupMetadata.iso8601(started))), ("finished", .string(BackupMetadata.iso8601(finished))),
            ("duration_ms", .int(Int64(seconds * 1000))),
            ("key", key.map(JSONValue.string) ?? .null), ("size", size.map { .int(Int64($0)) } ?? .null),
            ("deleted_count", deletedCount.map { .int(Int64($0)) } ?? .null),
            ("error", error.map(JSONValue.string) ?? .null),
        ])
    }
}
