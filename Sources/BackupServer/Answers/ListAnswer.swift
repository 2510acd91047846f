import Backup
import Foundation
import Hummingbird

/// `GET /api/admin/backup`: `{"backups":[…],"total":N}`, exactly the guide's answer.
struct ListAnswer: ResponseEncodable {
    var backups: [ListedBackup]
    var total: Int

    init(_ entries: [BackupEntry]) {
        backups = entries.map(ListedBackup.init)
        total = entries.count
    }
}

/// The guide's object: key, uploaded, size, size_kb, size_mb, metadata (guide fields first).
struct ListedBackup: Encodable {
    var key: String
    var uploaded: String
    var size: Int
    var sizeKB: String
    var sizeMB: String
    var metadata: SortedMetadata

    init(_ entry: BackupEntry) {
        let info = entry.info
        metadata = SortedMetadata(ordered: entry.listedMetadata.map { ($0.name, $0.value) })
        key = info.key
        uploaded = BackupMetadata.iso8601(info.lastModified)
        size = info.size
        sizeKB = String(format: "%.2f", Double(info.size) / 1024)
        sizeMB = String(format: "%.2f", Double(info.size) / 1_048_576)
    }

    enum CodingKeys: String, CodingKey { case key, uploaded, size, sizeKB = "size_kb", sizeMB = "size_mb", metadata }
}
