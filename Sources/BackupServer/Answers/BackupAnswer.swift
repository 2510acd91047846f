import Backup
import Hummingbird

/// The answer to `POST /api/admin/backup` (with `metadata`) and to the cron trigger (without).
struct BackupAnswer: ResponseEncodable {
    var success = true
    var key: String
    var size: Int
    var metadata: SortedMetadata?
    var deletedCount: Int

    init(_ result: BackupJob.Outcome, withMetadata: Bool) {
        key = result.key
        size = result.size
        metadata = withMetadata ? SortedMetadata(result.metadata) : nil
        deletedCount = result.deletedCount ?? 0
    }

    enum CodingKeys: String, CodingKey { case success, key, size, metadata, deletedCount = "deleted_count" }
}

/// Object metadata as a JSON object, keys in the given order (sorted unless told otherwise).
struct SortedMetadata: Encodable {
    let fields: [(String, String)]

    init(_ metadata: [String: String]) { fields = metadata.sorted { $0.key < $1.key } }
    init(ordered fields: [(String, String)]) { self.fields = fields }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: DynamicKey.self)
        for (name, value) in fields { try container.encode(value, forKey: DynamicKey(name)) }
    }
}
