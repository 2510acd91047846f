import Backup
import Fleet
import Foundation
import Logging
import ServiceLifecycle

/// The built-in cron: sleeps until the schedule's next minute, runs backup + prune as a
/// scheduled backup, repeats. On graceful shutdown it stops waiting and drains the coordinator
/// (a running backup gets `shutdownGrace` to finish, then is cancelled).
package struct BackupScheduler: Service {
    let schedule: CronSchedule?
    let clock: any ServerClock
    let coordinator: BackupCoordinator
    let shutdownGrace: Duration
    let logger: Logger

    package init(schedule: CronSchedule?, clock: any ServerClock, coordinator: BackupCoordinator,
            shutdownGrace: Duration, logger: Logger) {
        self.schedule = schedule
        self.clock = clock
        self.coordinator = coordinator
        self.shutdownGrace = shutdownGrace
        self.logger = logger
    }

    package func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            if let schedule {
                group.addTask { await loop(schedule) }
            } else {
                logger.info("built-in schedule is off")
            }
            var grace = shutdownGrace
            do {
                try await gracefulShutdown()
            } catch {
                grace = .zero  // cancelled rather than asked to stop: do not linger
            }
            await coordinator.drain(grace: grace)
            group.cancelAll()
        }
    }

    private func loop(_ schedule: CronSchedule) async {
        while !Task.isCancelled {
            guard let next = schedule.next(after: clock.now()) else {
                logger.error("the schedule never fires again", metadata: ["schedule": "\(schedule)"])
                await coordinator.setNextScheduledRun(nil)
                return
            }
            await coordinator.setNextScheduledRun(next)
            logger.info("next scheduled backup", metadata: ["schedule": "\(schedule)", "at": "\(BackupMetadata.iso8601(next))"])
            do {
                try await clock.sleep(until: next)
            } catch {
                return
            }
            do {
                _ = try await coordinator.backup(trigger: .scheduled, userID: nil)
            } catch {
                // Logged (and alerted) by the coordinator; a busy server skips this run.
            }
        }
    }
}
