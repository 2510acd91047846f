import Foundation
import ObjectStore

/// One backup as `list` shows it.
package struct BackupEntry: Sendable {
    package var key: BackupKey
    package var info: ObjectInfo

    /// The object's metadata as listed, the guide's fields first (timestamp, size, tables_count,
    /// the first two filled in when the store lost them), then the rest by name. The CLI's JSON
    /// and the server's list answer both show it.
    package var listedMetadata: [(name: String, value: String)] {
        var metadata = info.metadata
        if metadata[BackupMetadata.size] == nil { metadata[BackupMetadata.size] = String(info.size) }
        if metadata[BackupMetadata.timestamp] == nil { metadata[BackupMetadata.timestamp] = BackupMetadata.iso8601(key.timestamp) }
        let guideOrder = [BackupMetadata.timestamp, BackupMetadata.size, BackupMetadata.tablesCount]
        let rest = metadata.keys.filter { !guideOrder.contains($0) }.sorted()
        return (guideOrder + rest).compactMap { name in metadata[name].map { (name, $0) } }
    }

    /// The guide's object: key, uploaded, size, size_kb, size_mb, metadata.
    package var json: JSONValue {
        let fields = listedMetadata.map { ($0.name, JSONValue.string($0.value)) }
        return .object([
            ("key", .string(info.key)),
            ("uploaded", .string(BackupMetadata.iso8601(info.lastModified))),
            ("size", .int(Int64(info.size))),
            ("size_kb", .string(String(format: "%.2f", Double(info.size) / 1024))),
            ("size_mb", .string(String(format: "%.2f", Double(info.size) / 1_048_576))),
            ("metadata", .object(fields)),
        ])
    }
}

/// Reads the backups under a prefix, newest first.
package enum BackupListing {
    package static func entries(in store: any ObjectStore, prefix: String, withMetadata: Bool = true) throws -> [BackupEntry] {
        // Listed without the trailing '/' and filtered here: the result is the same, and moto's
        // signature check (the test peer) mishandles a '/' in query values.
        let objects = try store.list(prefix: prefix.hasSuffix("/") ? String(prefix.dropLast()) : prefix)
        var entries: [BackupEntry] = []
        for object in objects {
            guard let key = BackupKey(key: object.key, prefix: prefix) else { continue }
            var info = object
            if withMetadata && info.metadata.isEmpty, let headed = try store.head(key: object.key) {
                info = headed
            }
            entries.append(BackupEntry(key: key, info: info))
        }
        return entries.sorted { BackupKey.newestFirst($0.key, $1.key) }
    }

    /// Multipart uploads under the prefix that were neither completed nor aborted (a killed
    /// run's parts); empty for stores without them, or when the store does not say.
    package static func pendingUploads(in store: any ObjectStore, prefix: String) -> [PendingMultipartUpload] {
        guard let s3 = store as? S3Store else { return [] }
        return (try? pendingUploads(in: s3, prefix: prefix)) ?? []
    }

    static func pendingUploads(in s3: S3Store, prefix: String) throws -> [PendingMultipartUpload] {
        // Without the trailing '/' and filtered here, as `entries` lists (moto's signature check).
        try s3.listMultipartUploads(prefix: prefix.hasSuffix("/") ? String(prefix.dropLast()) : prefix)
            .filter { $0.key.hasPrefix(prefix) }
    }

    /// `{"backups":[…],"total":N}`, exactly the guide's answer to `GET /api/admin/backup`.
    package static func json(_ entries: [BackupEntry]) -> JSONValue {
        .object([("backups", .array(entries.map(\.json))), ("total", .int(Int64(entries.count)))])
    }
}
