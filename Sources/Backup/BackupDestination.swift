import Foundation
import ObjectStore

/// Where backups go: `--store`, else `BACKSTREAM_STORE`, else the folder `.` with the guide's
/// `backups/` prefix (so keys read `backups/database-….sql.gz` everywhere). A folder store is
/// laid out like a bucket: `--store /srv/b` keeps `/srv/b/backups/database-….sql.gz`.
package struct BackupDestination: Sendable {
    package let store: any ObjectStore
    package let prefix: String

    package static let defaultPrefix = "backups/"

    package init(store: any ObjectStore, prefix: String) {
        self.store = store
        self.prefix = prefix
    }

    package static func resolve(_ url: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> BackupDestination {
        let spec = url ?? environment["BACKSTREAM_STORE"].flatMap { $0.isEmpty ? nil : $0 } ?? "."
        let (store, prefix) = try StoreLocation.parse(spec, environment: environment)
        var normalized = prefix.isEmpty ? defaultPrefix : prefix
        if !normalized.hasSuffix("/") { normalized += "/" }
        return BackupDestination(store: store, prefix: normalized)
    }

    /// A backup key given by the user, or `latest`; a bare file name gets the prefix.
    package func resolveKey(_ given: String) throws -> BackupEntry {
        let entries = try BackupListing.entries(in: store, prefix: prefix, withMetadata: false)
        if given == "latest" {
            guard let newest = entries.first else {
                throw BackupError.noBackups(store: store.displayName, prefix: prefix)
            }
            return try withMetadata(newest)
        }
        let key = given.hasPrefix(prefix) || given.contains("/") ? given : prefix + given
        guard let info = try store.head(key: key) else {
            throw BackupError.notFound(store: store.displayName, key: key)
        }
        let folder = key.range(of: "/", options: .backwards).map { String(key[..<$0.upperBound]) } ?? ""
        guard let parsed = BackupKey(key: key, prefix: folder) else { throw BackupError.notABackup(key: key) }
        return BackupEntry(key: parsed, info: info)
    }

    private func withMetadata(_ entry: BackupEntry) throws -> BackupEntry {
        guard let info = try store.head(key: entry.info.key) else {
            throw BackupError.notFound(store: store.displayName, key: entry.info.key)
        }
        return BackupEntry(key: entry.key, info: info)
    }
}
