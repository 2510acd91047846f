import Backup
import Fleet
import Foundation
import Logging
import ServiceLifecycle

/// The built-in cron of every database in the fleet: one loop that wakes at least once a
/// second, starts each database's run as it falls due (in due order, through the
/// coordinator's budget), and picks up schedule changes from a reload. On graceful shutdown
/// it stops starting runs and drains the coordinator (running backups get `shutdownGrace`,
/// then are cancelled).
package struct BackupScheduler: Service {
    let clock: any ServerClock
    let coordinator: BackupCoordinator
    let shutdownGrace: Duration
    let logger: Logger

    package init(clock: any ServerClock, coordinator: BackupCoordinator, shutdownGrace: Duration, logger: Logger) {
        self.clock = clock
        self.coordinator = coordinator
        self.shutdownGrace = shutdownGrace
        self.logger = logger
    }

    package func run() async throws {
        let loop = Task { await schedule() }
        var grace = shutdownGrace
        do {
            try await gracefulShutdown()
        } catch {
            grace = .zero  // cancelled rather than asked to stop: do not linger
        }
        loop.cancel()
        await coordinator.drain(grace: grace)
        await loop.value
    }

    private struct Planned {
        var expression: String
        var due: Date
    }

    private func schedule() async {
        await withDiscardingTaskGroup { group in
            var planned: [String: Planned] = [:]
            var announcedOff = false
            // Finished leases are swept ten minutes after start, then hourly.
            var nextSweep = clock.now().addingTimeInterval(600)
            while !Task.isCancelled {
                let now = clock.now()
                var starting: [(due: Date, database: DatabaseCoordinator)] = []
                var seen = Set<String>()
                for database in await coordinator.all {
                    let fleetDatabase = await database.database
                    let name = fleetDatabase.name
                    seen.insert(name)
                    guard let cron = fleetDatabase.schedule else {
                        if planned.removeValue(forKey: name) != nil || !announcedOff {
                            await database.setNextScheduledRun(nil)
                        }
                        continue
                    }
                    var plan = planned[name]
                    if plan == nil || plan?.expression != cron.expression {
                        guard let next = cron.next(after: now) else {
                            logger.with(database: name).error("the schedule never fires again", metadata: ["schedule": "\(cron)"])
                            planned[name] = nil
                            await database.setNextScheduledRun(nil)
                            continue
                        }
                        plan = Planned(expression: cron.expression, due: next)
                        await database.setNextScheduledRun(next)
                        logger.with(database: name).info("next scheduled backup",
                                                         metadata: ["schedule": "\(cron)", "at": "\(BackupMetadata.iso8601(next))"])
                    }
                    guard var current = plan else { continue }
                    if current.due <= now {
                        starting.append((current.due, database))
                        // Runs missed while the process was busy or asleep are not made up.
                        if let next = cron.next(after: max(now, current.due)) {
                            current.due = next
                            await database.setNextScheduledRun(next)
                        } else {
                            await database.setNextScheduledRun(nil)
                        }
                    }
                    planned[name] = current
                }
                if planned.isEmpty && !announcedOff {
                    logger.info("built-in schedule is off")
                }
                announcedOff = true
                for name in planned.keys where !seen.contains(name) { planned[name] = nil }
                starting.sort { $0.due < $1.due }
                for (due, database) in starting {
                    guard await database.startScheduled() else {
                        logger.with(database: await database.name).warning(
                            "skipping a scheduled run: the previous one of this database is still going",
                            metadata: ["due": "\(BackupMetadata.iso8601(due))"])
                        continue
                    }
                    group.addTask {
                        await runScheduled(database, due: due)
                        await database.endScheduled()
                    }
                }
                if clock.now() >= nextSweep {
                    nextSweep = clock.now().addingTimeInterval(3600)
                    group.addTask { await coordinator.sweepLeases() }
                }
                let wake = planned.values.map(\.due).min().map { min($0, clock.now().addingTimeInterval(1)) }
                    ?? clock.now().addingTimeInterval(1)
                do {
                    try await clock.sleep(until: wake)
                } catch {
                    break
                }
            }
            group.cancelAll()
        }
    }

    /// One scheduled run: back up, or watch the replica that holds its lease until it is done
    /// (nothing more to do) or its lease expires (then take the run over).
    private func runScheduled(_ database: DatabaseCoordinator, due: Date) async {
        let log = logger.with(database: await database.name)
        if await database.skipsForBackoff(due) {
            let failures = await database.consecutiveFailures
            log.notice("skipping a scheduled run: backing off after repeated failures", metadata: [
                "due": "\(BackupMetadata.iso8601(due))", "failures": "\(failures)",
            ])
            return
        }
        let jitter = await coordinator.claimJitter
        if jitter > 0 {
            do {
                try await Task.sleep(for: .milliseconds(Int64.random(in: 0..<Int64(jitter * 1000))))
            } catch {
                return
            }
        }
        var recheck = false
        while !Task.isCancelled, !(await database.removed) {
            do {
                switch try await coordinator.backup(database, trigger: .scheduled, userID: nil, scheduled: due, recheck: recheck) {
                case .backedUp, .alreadyDone:
                    return
                case .heldElsewhere(let lease):
                    recheck = true
                    log.debug("another replica holds the run", metadata: ["holder": "\(lease.holder)", "lease": "\(lease.key)"])
                    // Soon enough to see a quick run done before the next due time, and never
                    // later than just after the lease runs out.
                    let now = clock.now()
                    let expiry = max(lease.expires, now).addingTimeInterval(1)
                    try await clock.sleep(until: min(expiry, now.addingTimeInterval(await coordinator.recheckInterval)))
                }
            } catch {
                // Logged (and alerted) by the coordinator; a busy database skips this run.
                return
            }
        }
    }
}
