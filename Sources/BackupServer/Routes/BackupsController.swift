import Backup
import D1Source
import Foundation
import Hummingbird
import Logging

/// The guide's admin API under `/api/admin/backup` (the one database of `serve DB`) and the
/// same under `/api/admin/databases/{name}/backup` (any database of a fleet): list, create,
/// clean up, download, verify. Every route needs an admin bearer token; work-starting ones are
/// rate limited per identity.
struct BackupsController {
    typealias Context = ServerRequestContext
    let configuration: ServerConfiguration
    let coordinator: BackupCoordinator
    let logger: Logger
    /// Whether the path names the database (`databases/{name}/backup`).
    let named: Bool

    /// The database the request addresses.
    func database(_ context: Context) async throws -> DatabaseCoordinator {
        guard named else {
            if let only = await coordinator.single { return only }
            let count = await coordinator.all.count
            throw ServerError.notFound("this server backs up \(count) databases: use /api/admin/databases/{name}/backup")
        }
        guard let name = context.parameters.get("name"), let found = await coordinator.database(named: name) else {
            throw ServerError.notFound("no database of that name: GET /api/admin/databases lists them")
        }
        return found
    }

    func addRoutes(to group: RouterGroup<Context>) {
        group.get(use: list)
            .post(use: create)
            .delete(use: cleanup)
            .get("**", use: download)
            .post("**", use: verify)
    }

    @Sendable func list(_ request: Request, context: Context) async throws -> ListAnswer {
        do {
            let destination = try await database(context).database.destination
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
            let target = try await database(context)
            let result = try await coordinator.backup(target, trigger: .manual, userID: context.identity, scheduled: nil).outcome()
            return BackupAnswer(result, withMetadata: true)
        } catch {
            throw ErrorResponse.failure(error, "the backup", logger: logger)
        }
    }

    @Sendable func cleanup(_ request: Request, context: Context) async throws -> PruneAnswer {
        let userID = context.identity
        do {
            let target = try await database(context).database
            let destination = target.destination, policy = target.retention
            let database = D1Location.matches(target.source) ? nil : target.source
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
        let entry: BackupEntry, destination: BackupDestination
        do {
            (entry, destination) = try await backupEntry(request, context: context, action: "download")
        } catch {
            throw ErrorResponse.failure(error, "the download", logger: logger)
        }
        return BackupDownload(entry: entry, store: destination.store,
                              stallSeconds: configuration.downloadStallSeconds, logger: logger)
            .response(close: context.closeConnection)
    }

    @Sendable func verify(_ request: Request, context: Context) async throws -> EditedResponse<VerifyAnswer> {
        do {
            let (entry, destination) = try await backupEntry(request, context: context, action: "verify")
            let identities = configuration.identities
            let report = try await BlockingWork.run { try VerifyJob.run(entry, from: destination, identities: identities) }
            logger.info("verify", metadata: ["key": "\(entry.info.key)", "ok": "\(report.ok)"])
            return EditedResponse(status: report.ok ? .ok : .unprocessableContent, response: VerifyAnswer(report: report))
        } catch {
            throw ErrorResponse.failure(error, "the verification", logger: logger)
        }
    }

    /// The key in `<base>/<url-encoded key>/<action>`, and the destination of its database.
    func backupEntry(_ request: Request, context: Context, action: String) async throws -> (BackupEntry, BackupDestination) {
        let destination = try await database(context).database.destination
        let base = named ? "/api/admin/databases/\(context.parameters.get("name") ?? "")/backup/" : "/api/admin/backup/"
        let path = request.uri.path
        guard path.hasPrefix(base), path.hasSuffix("/" + action), path.count > base.count + action.count + 1 else {
            throw ServerError.notFound("use \(base){key}/\(action)")
        }
        let encoded = path.dropFirst(base.count).dropLast(action.count + 1)
        guard let key = String(encoded).removingPercentEncoding, !key.isEmpty else {
            throw ServerError.badRequest("the key is not valid URL encoding")
        }
        // S3 keys are at most 1024 bytes; control characters are never part of a backup key.
        guard key.utf8.count <= 1024, !key.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw ServerError.badRequest("the key is too long or contains control characters")
        }
        // Only keys of backups directly under the configured prefix: never `..`, never another folder.
        let full = key.contains("/") ? key : destination.prefix + key
        guard full.hasPrefix(destination.prefix), !full.split(separator: "/").contains("..") else {
            throw ServerError.notFound("the key is not a backup under the configured prefix")
        }
        guard BackupKey(key: full, prefix: destination.prefix) != nil else { throw BackupError.notABackup(key: full) }
        return (try await BlockingWork.run { try destination.resolveKey(full) }, destination)
    }
}
