import Backup
import Fleet
import Hummingbird

/// `GET /api/admin/databases`: every database of the fleet and how its backups go.
struct DatabasesAnswer: ResponseEncodable {
    var databases: [DatabaseAnswer]
    var total: Int { databases.count }

    enum CodingKeys: String, CodingKey { case databases, total }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(databases, forKey: .databases)
        try c.encode(total, forKey: .total)
    }
}

/// One database: where it is backed up, when, and the last outcome (absent facts are null).
struct DatabaseAnswer: Encodable {
    let snapshot: DatabaseCoordinator.Snapshot

    enum CodingKeys: String, CodingKey {
        case name, source, store, prefix, schedule, status, nextRun = "next_run", running, queuedSince = "queued_since"
        case lastBackup = "last_backup"
        case lastSuccess = "last_success", consecutiveFailures = "consecutive_failures", backoffUntil = "backoff_until"
    }

    func encode(to encoder: any Encoder) throws {
        let database = snapshot.database
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(database.name, forKey: .name)
        try c.encode(database.source, forKey: .source)
        try c.encode(database.destination.store.displayName, forKey: .store)
        try c.encode(database.destination.prefix, forKey: .prefix)
        try c.encode(database.schedule?.expression ?? "off", forKey: .schedule)
        try c.encode(snapshot.status, forKey: .status)
        try c.encode(snapshot.nextScheduledRun.map(BackupMetadata.iso8601), forKey: .nextRun)
        try c.encode(snapshot.running.map(HealthAnswer.Running.init), forKey: .running)
        try c.encode(snapshot.queuedSince.map(BackupMetadata.iso8601), forKey: .queuedSince)
        try c.encode(snapshot.lastRun.map(RunAnswer.init), forKey: .lastBackup)
        try c.encode(snapshot.lastSuccess.map { BackupMetadata.iso8601($0.finished) }, forKey: .lastSuccess)
        try c.encode(snapshot.consecutiveFailures, forKey: .consecutiveFailures)
        try c.encode(snapshot.backoffUntil.map(BackupMetadata.iso8601), forKey: .backoffUntil)
    }
}
