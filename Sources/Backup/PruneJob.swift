import Foundation
import ObjectStore

/// `backstream prune`: deletes backups past the retention period, only ever keys of the
/// backup naming pattern directly under the prefix.
package enum PruneJob {
    package struct Outcome: Sendable {
        package var deleted: [String]
        package var kept: Int
        package var dryRun: Bool
        package var json: JSONValue {
            var fields: [(String, JSONValue)] = [("success", .bool(true)), ("deleted_count", .int(Int64(deleted.count)))]
            if dryRun { fields.append(("dry_run", .bool(true))) }
            fields.append(("deleted", .array(deleted.map(JSONValue.string))))
            return .object(fields)
        }
    }

    package static func run(destination: BackupDestination, policy: RetentionPolicy, dryRun: Bool,
                           databasePath: String? = nil, userID: String? = nil, now: Date = Date(),
                           warn: (@Sendable (String) -> Void)? = nil) throws -> Outcome {
        let entries = try BackupListing.entries(in: destination.store, prefix: destination.prefix, withMetadata: false)
        let expired = policy.expired(entries.map(\.key), now: now).map(\.key)
        if !dryRun && !expired.isEmpty {
            try destination.store.delete(keys: expired)
        }
        // Metadata files whose object is gone (a crash mid-write, a hand-deleted object): a
        // failure here is only a warning, never the outcome of the prune.
        if !dryRun, let folder = destination.store as? DirectoryStore {
            do {
                _ = try folder.removeOrphanMetadata(prefix: destination.prefix)
            } catch {
                warn?("could not remove orphan metadata files: \(error)")
            }
        }
        let result = Outcome(deleted: expired, kept: entries.count - expired.count, dryRun: dryRun)
        if let databasePath, !dryRun {
            let details = JSONValue.object([("deleted_count", .int(Int64(expired.count))), ("deleted", .array(expired.map(JSONValue.string))),
                                            ("retention_days", .int(Int64(policy.retentionDays))), ("keep_last", .int(Int64(policy.keepLast)))])
            ActivityLog.recordOrWarn(databasePath: databasePath, action: .cleanedUp, details: details, userID: userID, warn: warn)
        }
        return result
    }
}
