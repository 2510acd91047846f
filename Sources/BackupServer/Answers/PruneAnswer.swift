import Backup
import Hummingbird

/// `DELETE /api/admin/backup`: the CLI's `prune --json` shape, `success` and the count first.
struct PruneAnswer: ResponseEncodable {
    var success = true
    var deletedCount: Int
    var dryRun: Bool?
    var deleted: [String]

    init(_ result: PruneJob.Outcome) {
        deletedCount = result.deleted.count
        dryRun = result.dryRun ? true : nil
        deleted = result.deleted
    }

    enum CodingKeys: String, CodingKey { case success, deletedCount = "deleted_count", dryRun = "dry_run", deleted }
}
