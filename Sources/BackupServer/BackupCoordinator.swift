import Backup
import ChunkIO
import Foundation
import Logging
import Support

/// Runs the server's backups one at a time and remembers how they went (for /healthz,
/// /metrics and the admin page). The job itself runs on a blocking queue; this actor only
/// holds state, so a second trigger is answered (409) while the first one runs.
package actor BackupCoordinator {
    package struct Running: Sendable {
        package let started: Date
        package let trigger: BackupJob.Trigger
        let cancellation: Cancellation
    }

    private let configuration: ServerConfiguration
    private let logger: Logger
    private let alerts: AlertWebhook?
    package private(set) var running: Running?
    package private(set) var lastRun: BackupRun?
    package private(set) var lastSuccess: BackupRun?
    package private(set) var nextScheduledRun: Date?
    private var shuttingDown = false

    // Prometheus counters.
    package private(set) var backupsTotal = 0
    package private(set) var backupsFailedTotal = 0
    package private(set) var uploadedBytesTotal = 0

    package init(configuration: ServerConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        self.alerts = configuration.alertWebhook.map { AlertWebhook(url: $0, logger: logger) }
    }

    func setNextScheduledRun(_ date: Date?) { nextScheduledRun = date }

    /// Backs up and prunes; throws `ServerError.busy` when a backup is already running.
    package func backup(trigger: BackupJob.Trigger, userID: String?) async throws -> BackupJob.Outcome {
        if shuttingDown { throw ServerError.shuttingDown }
        if let running { throw ServerError.busy(started: running.started, holder: nil) }
        let cancellation = Cancellation()
        let started = configuration.clock.now()
        running = Running(started: started, trigger: trigger, cancellation: cancellation)
        defer { running = nil }

        var options = BackupJob.Options()
        options.trigger = trigger
        options.userID = userID
        options.retention = configuration.retention
        options.cancellation = cancellation
        options.threads = configuration.threads
        options.compression = configuration.compression
        options.level = configuration.level
        options.recipients = configuration.recipients
        options.openSource = configuration.openSource
        if configuration.openSource != nil { options.activityLog = false }
        let log = logger
        options.warn = { message in log.warning("backup warning", metadata: ["detail": "\(message)"]) }
        let database = configuration.databasePath, destination = configuration.destination, jobOptions = options
        logger.info("backup started", metadata: ["trigger": "\(trigger.rawValue)"])
        do {
            let result = try await BlockingWork.run {
                try BackupJob.run(databasePath: database, destination: destination, options: jobOptions)
            }
            let run = BackupRun(trigger: trigger.rawValue, started: started, finished: configuration.clock.now(),
                                key: result.key, size: result.size, deletedCount: result.deletedCount, error: nil)
            record(run)
            uploadedBytesTotal += result.size
            logger.info("backup completed", metadata: [
                "trigger": "\(trigger.rawValue)", "key": "\(result.key)", "size": "\(result.size)",
                "deleted_count": "\(result.deletedCount ?? 0)", "duration_ms": "\(Int(run.seconds * 1000))",
            ])
            return result
        } catch let busy as BackupError where busy.code == .busy {
            // Another process (a CLI backup) holds the database's lock: not a failed backup.
            throw ServerError.busy(started: nil, holder: busy.holder)
        } catch {
            // /healthz, the admin page and the webhook get a sentence without paths or upstream
            // text; the log keeps the detail under the same id.
            let runID = PublicError.newRequestID()
            let run = BackupRun(trigger: trigger.rawValue, started: started, finished: configuration.clock.now(),
                                key: nil, size: nil, deletedCount: nil,
                                error: "\(PublicError.describe(error).sentence) (request id \(runID))")
            record(run)
            logger.error("backup failed", metadata: ["trigger": "\(trigger.rawValue)", "request_id": "\(runID)", "error": "\(error)"])
            if trigger == .scheduled, let alerts {
                let database = configuration.databasePath
                Task { await alerts.send(run: run, database: database) }
            }
            throw error
        }
    }

    private func record(_ run: BackupRun) {
        backupsTotal += 1
        if run.ok { lastSuccess = run } else { backupsFailedTotal += 1 }
        lastRun = run
    }

    /// Refuses new backups, waits up to `grace` for a running one, then cancels it (its upload
    /// is aborted, leaving no object) and waits for it to stop.
    package func drain(grace: Duration) async {
        shuttingDown = true
        guard let current = running else { return }
        logger.notice("waiting for the running backup before shutting down", metadata: ["grace": "\(grace)"])
        let finished = await waitForIdle(timeout: grace)
        if !finished {
            logger.warning("cancelling the running backup: shutdown grace period is over")
            current.cancellation.cancel()
            _ = await waitForIdle(timeout: .seconds(30))
        }
    }

    private func waitForIdle(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while running != nil {
            if ContinuousClock.now >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return true
    }
}
