import Backup
import Hummingbird

/// `GET /healthz`: the schedule and how the server's backups went. Absent facts are `null`.
struct HealthAnswer: ResponseEncodable {
    struct Running: Encodable {
        var started: String
        var trigger: String

        init(_ running: DatabaseCoordinator.Running) {
            started = BackupMetadata.iso8601(running.started)
            trigger = running.trigger.rawValue
        }
    }

    var status: String
    var schedule: String
    var nextRun: String?
    var running: Running?
    var lastBackup: RunAnswer?
    var lastSuccess: String?
    /// Only for a fleet: how many databases, and which are failing.
    var fleet: FleetSummary?

    struct FleetSummary { var databases: Int; var failing: [String] }

    init(status: String, schedule: String, nextRun: String?, running: Running?, lastBackup: RunAnswer?, lastSuccess: String?) {
        self.status = status
        self.schedule = schedule
        self.nextRun = nextRun
        self.running = running
        self.lastBackup = lastBackup
        self.lastSuccess = lastSuccess
    }

    enum CodingKeys: String, CodingKey {
        case status, schedule, nextRun = "next_run", running, lastBackup = "last_backup", lastSuccess = "last_success"
        case databases, failing
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(status, forKey: .status)
        try c.encode(schedule, forKey: .schedule)
        try c.encode(nextRun, forKey: .nextRun)
        try c.encode(running, forKey: .running)
        try c.encode(lastBackup, forKey: .lastBackup)
        try c.encode(lastSuccess, forKey: .lastSuccess)
        if let fleet {
            try c.encode(fleet.databases, forKey: .databases)
            try c.encode(fleet.failing, forKey: .failing)
        }
    }
}

/// One backup the server ran, as /healthz shows it.
struct RunAnswer: Encodable {
    let run: BackupRun

    enum CodingKeys: String, CodingKey {
        case trigger, ok, started, finished, durationMS = "duration_ms", key, size, deletedCount = "deleted_count", error
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(run.trigger, forKey: .trigger)
        try c.encode(run.ok, forKey: .ok)
        try c.encode(BackupMetadata.iso8601(run.started), forKey: .started)
        try c.encode(BackupMetadata.iso8601(run.finished), forKey: .finished)
        try c.encode(Int64(run.seconds * 1000), forKey: .durationMS)
        try c.encode(run.key, forKey: .key)
        try c.encode(run.size, forKey: .size)
        try c.encode(run.deletedCount, forKey: .deletedCount)
        try c.encode(run.error, forKey: .error)
    }
}
