import Foundation
import SQLiteDump
import SQLiteAccess

/// The audit trail of the guide: one row per operation in the database's own `activity_log`
/// table, using whichever of `action`, `details`, `created_at`, `user_id` (and a text `id`)
/// the table has. Written after the snapshot was read, so a dump never waits on it.
package enum ActivityLog {
    package enum Action: String, Sendable {
        case backupCreated = "database_backup_created"
        case scheduledCompleted = "scheduled_backup_completed"
        case scheduledFailed = "scheduled_backup_failed"
        case cleanedUp = "backups_cleaned_up"
        case backupFailed = "database_backup_failed"
    }

    /// Adds a row and returns true, or returns false when the database has no `activity_log`.
    @discardableResult
    package static func record(databasePath: String, action: Action, details: JSONValue, userID: String? = nil) throws -> Bool {
        // Never create the database: a backup of a missing path must not leave an empty one.
        let db = try Connection(path: databasePath, readOnly: false, busyTimeoutMilliseconds: 10_000, create: false)
        let info = try db.prepare("SELECT name, upper(type), \"notnull\", dflt_value IS NOT NULL, pk FROM pragma_table_info('activity_log')")
        var columns: [String: (type: String, required: Bool, primaryKey: Bool)] = [:]
        while try info.step() {
            columns[info.string(0).lowercased()] = (info.string(1), info.int64(2) != 0 && info.int64(3) == 0, info.int64(4) != 0)
        }
        guard !columns.isEmpty else { return false }

        var names: [String] = [], values: [String] = []
        if let id = columns["id"], !id.type.contains("INT"), id.required || id.primaryKey {
            names.append("id"); values.append(SQLIdentifier.literal(UUID().uuidString.lowercased()))
        }
        if columns["action"] != nil { names.append("action"); values.append(SQLIdentifier.literal(action.rawValue)) }
        if columns["details"] != nil { names.append("details"); values.append(SQLIdentifier.literal(details.rendered)) }
        if let userID, columns["user_id"] != nil { names.append("user_id"); values.append(SQLIdentifier.literal(userID)) }
        if let created = columns["created_at"] {
            names.append("created_at")
            values.append(created.type.contains("INT") ? "unixepoch()" : "strftime('%Y-%m-%dT%H:%M:%fZ','now')")
        }
        guard !names.isEmpty else { return false }
        let sql = "INSERT INTO activity_log(\(names.map { "\"\($0)\"" }.joined(separator: ","))) VALUES(\(values.joined(separator: ",")))"
        try db.execute(sql)
        return true
    }
}

extension ActivityLog {
    /// Logging must not turn a finished backup into a failed one: problems become warnings.
    static func recordOrWarn(databasePath: String, action: Action, details: JSONValue, userID: String?,
                             warn: (@Sendable (String) -> Void)?) {
        do {
            try record(databasePath: databasePath, action: action, details: details, userID: userID)
        } catch {
            warn?("could not write \(action.rawValue) to activity_log of \(databasePath): \(error)")
        }
    }
}
