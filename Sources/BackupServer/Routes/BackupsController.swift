import Backup
import Foundation
import Hummingbird
import Logging

/// The guide's admin API under `/api/admin/backup`: list, create, clean up, download, verify.
/// Every route needs an admin bearer token; work-starting ones are rate limited per identity.
struct BackupsController {
    typealias Context = ServerRequestContext
    let configuration: ServerConfiguration
    let coordinator: BackupCoordinator
    let logger: Logger

    func addRoutes(to group: RouterGroup<Context>) {
        group.get(use: list)
            .post(use: create)
            .delete(use: cleanup)
            .get("**", use: download)
            .post("**", use: verify)
    }

    @Sendable func list(_ request: Request, context: Context) async throws -> ListAnswer {
        let destination = configuration.destination
        do {
            let entries = try await BlockingWork.run {
                try BackupListing.entries(in: destination.store, prefix: destination.prefix)
            }
            return ListAnswer(entries)
        } catch {
            throw ErrorResponse.failure(error, "listing the backups", logger: logger)
        }
    }

    @Sendable func create(_ request: Request, context: Context) async throws -> BackupAnswer {
        do {
            let result = try await coordinator.backup(trigger: .manual, userID: context.identity)
            return BackupAnswer(result, withMetadata: true)
        } catch {
            throw ErrorResponse.failure(error, "the backup", logger: logger)
        }
    }

    @Sendable func cleanup(_ request: Request, context: Context) async throws -> PruneAnswer {
        let destination = configuration.destination, policy = configuration.retention, database = configuration.openSource == nil ? configuration.databasePath : nil
        let userID = context.identity
        do {
            let result = try await BlockingWork.run {
                try PruneJob.run(destination: destination, policy: policy, dryRun: false, databasePath: database, userID: userID)
            }
            logger.info("cleanup", metadata: ["deleted_count": "\(result.deleted.count)"])
            return PruneAnswer(result)
        } catch {
            throw ErrorResponse.failure(error, "the clean-up", logger: logger)
        }
    }

    @Sendable func download(_ request: Request, context: Context) async throws -> Response {
        let entry: BackupEntry
        do {
            entry = try await backupEntry(request, action: "download")
        } catch {
            throw ErrorResponse.failure(error, "the download", logger: logger)
        }
        return BackupDownload(entry: entry, store: configuration.destination.store,
                              stallSeconds: configuration.downloadStallSeconds, logger: logger)
            .response(close: context.closeConnection)
    }

    @Sendable func verify(_ request: Request, context: Context) async throws -> EditedResponse<VerifyAnswer> {
        do {
            let entry = try await backupEntry(request, action: "verify")
            let destination = configuration.destination, identities = configuration.identities
            let report = try await BlockingWork.run { try VerifyJob.run(entry, from: destination, identities: identities) }
            logger.info("verify", metadata: ["key": "\(entry.info.key)", "ok": "\(report.ok)"])
            return EditedResponse(status: report.ok ? .ok : .unprocessableContent, response: VerifyAnswer(report: report))
        } catch {
            throw ErrorResponse.failure(error, "the verification", logger: logger)
        }
    }

    /// The key in `/api/admin/backup/<url-encoded key>/<action>`.
    func backupEntry(_ request: Request, action: String) async throws -> BackupEntry {
        let base = "/api/admin/backup/"
        let path = request.uri.path
        guard path.hasPrefix(base), path.hasSuffix("/" + action), path.count > base.count + action.count + 1 else {
            throw ServerError.notFound("use /api/admin/backup/{key}/\(action)")
        }
        let encoded = path.dropFirst(base.count).dropLast(action.count + 1)
        guard let key = String(encoded).removingPercentEncoding, !key.isEmpty else {
            throw ServerError.badRequest("the key is not valid URL encoding")
        }
        // S3 keys are at most 1024 bytes; control characters are never part of a backup key.
        guard key.utf8.count <= 1024, !key.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw ServerError.badRequest("the key is too long or contains control characters")
        }
        let destination = configuration.destination
        // Only keys of backups directly under the configured prefix: never `..`, never another folder.
        let full = key.contains("/") ? key : destination.prefix + key
        guard full.hasPrefix(destination.prefix), !full.split(separator: "/").contains("..") else {
            throw ServerError.notFound("the key is not a backup under the configured prefix")
        }
        guard BackupKey(key: full, prefix: destination.prefix) != nil else { throw BackupError.notABackup(key: full) }
        return try await BlockingWork.run { try destination.resolveKey(full) }
    }
}
