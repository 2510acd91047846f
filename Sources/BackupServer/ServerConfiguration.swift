import Backup
import Compression
import D1Source
import Encryption
import Fleet
import Foundation
import SQLiteDump

/// Everything `backstream serve` needs; built from flags plus the environment.
package struct ServerConfiguration: Sendable {
    package var databasePath: String
    package var destination: BackupDestination
    package var host = "127.0.0.1"
    package var port = 8080
    /// nil: no built-in schedule (`--schedule off`).
    package var schedule: CronSchedule?
    package var retention = RetentionPolicy()
    /// CRON_SECRET: when set, `GET /api/cron/backup` needs it as a Bearer token.
    package var cronSecret: String?
    package var auth = AdminAuthConfiguration()
    package var alertWebhook: URL?
    /// Backup-triggering requests allowed in a burst, and the refill rate (per second).
    package var rateLimitBurst = 10
    package var rateLimitPerSecond = 0.2
    /// How long a graceful shutdown waits for a running backup before cancelling it.
    package var shutdownGrace: Duration = .seconds(30)
    package var clock: any ServerClock = SystemClock()
    /// Seconds a connection may sit idle (including a request head that never completes).
    package var idleTimeoutSeconds: Double = 30
    /// Seconds a download may make no progress (client not reading) before it is cut off.
    package var downloadStallSeconds: Double = 30
    /// Mark the session cookie Secure even without X-Forwarded-Proto: https (BACKSTREAM_SECURE_COOKIE=1).
    package var secureCookies = false
    /// Compression of backups run by the server, and its level (nil: the method's default).
    package var compression = CompressionMethod.gzip
    package var level: Int?
    /// Compression threads for backups run by the server.
    package var threads = max(1, ProcessInfo.processInfo.activeProcessorCount)
    /// BACKSTREAM_AGE_RECIPIENTS: scheduled and triggered backups are encrypted to these.
    package var recipients: [AgeRecipient] = []
    /// The identities in the file BACKSTREAM_AGE_IDENTITY names: verify decrypts with them.
    package var identities: [AgeIdentity] = []

    /// Reads a source other than the local file (a D1 database), which has no activity log.
    package var openSource: DumpJob.SourceOpener?

    /// The databases of a `--config` file; nil: the one database of the fields above.
    package var fleet: [FleetDatabase]?
    /// Reads the fleet file again (SIGHUP); nil without `--config`.
    package var reloadFleet: FleetLoader?

    package struct LoadedFleet: Sendable {
        package var databases: [FleetDatabase]
        package var maxConcurrent: Int
        package var warnings: [String]

        package init(databases: [FleetDatabase], maxConcurrent: Int, warnings: [String]) {
            self.databases = databases
            self.maxConcurrent = maxConcurrent
            self.warnings = warnings
        }
    }

    package typealias FleetLoader = @Sendable () throws -> LoadedFleet
    /// Backups at once in the whole process.
    package var maxConcurrent = ServerConfiguration.defaultMaxConcurrent
    /// Where replicas sharing the store claim runs; nil: no leases (a single `serve DB`).
    package var leases: LeaseSettings?

    /// Two: one per core of the machines this is measured on, and 2 × 64 MiB of peak memory.
    package static let defaultMaxConcurrent = 2

    package struct LeaseSettings: Sendable {
        package var destination: BackupDestination
        /// This replica's name in the leases it writes: host, process id and a random tag.
        package var holder: String
        package var ttl: TimeInterval
        /// A claim's read-back delay (`lease_confirm_ms`); 0 for stores with atomic conditional writes.
        package var confirm: TimeInterval

        package init(destination: BackupDestination, holder: String = LeaseSettings.makeHolder(), ttl: TimeInterval,
                     confirm: TimeInterval = 0) {
            self.confirm = confirm
            self.destination = destination
            self.holder = holder
            self.ttl = ttl
        }

        package static func makeHolder() -> String {
            let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "host"
            let tag = String(UInt32.random(in: 0...UInt32.max), radix: 36)
            return "\(host):\(ProcessInfo.processInfo.processIdentifier):\(tag)"
        }
    }

    /// The fleet, or the one database `serve DB` names (its backups keep the store's prefix as given).
    package var databases: [FleetDatabase] {
        if let fleet { return fleet }
        return [FleetDatabase(name: Self.name(forSource: databasePath), source: databasePath, destination: destination,
                              schedule: schedule, retention: retention, compression: compression, level: level,
                              recipients: recipients)]
    }

    /// A database's name from its file (`/srv/app.db` → `app`) or D1 location (`d1://a/b` → `b`),
    /// with characters a name may not hold replaced by `-`.
    package static func name(forSource source: String) -> String {
        var base = (source as NSString).lastPathComponent
        if let dot = base.lastIndex(of: "."), dot != base.startIndex { base = String(base[..<dot]) }
        var name = String(base.map { c -> Character in
            FleetDatabase.isValidName(String(c)) ? c : "-"
        }.prefix(100))
        while name.hasPrefix(".") { name.removeFirst() }
        return name.isEmpty ? "database" : name
    }

    /// How a database's rows are read: `openSource` for the single database, a D1 client for a
    /// `d1://` entry of a fleet, the SQLite file otherwise (nil).
    func opener(for database: FleetDatabase) -> DumpJob.SourceOpener? {
        if fleet == nil { return openSource }
        guard D1Location.matches(database.source), let location = try? D1Location(database.source) else { return nil }
        return { dumpOptions in Dumper(source: try D1Source(location: location, options: D1Source.Options()), options: dumpOptions) }
    }

    package init(databasePath: String, destination: BackupDestination) {
        self.databasePath = databasePath
        self.destination = destination
    }

    /// Reads CRON_SECRET, BACKSTREAM_ADMIN_TOKENS, BACKSTREAM_JWKS_URL / _FILE,
    /// BACKSTREAM_JWT_ISSUER, BACKSTREAM_JWT_AUTHORIZED_PARTIES and BACKSTREAM_ALERT_WEBHOOK.
    package mutating func apply(environment env: [String: String]) throws(ServerError) {
        func value(_ name: String) -> String? {
            guard let v = env[name]?.trimmingCharacters(in: .whitespaces), !v.isEmpty else { return nil }
            return v
        }
        func list(_ name: String) -> [String] {
            (value(name) ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        cronSecret = value("CRON_SECRET")
        if let secure = value("BACKSTREAM_SECURE_COOKIE") { secureCookies = ["1", "true", "yes"].contains(secure.lowercased()) }
        if let lifetime = value("BACKSTREAM_JWT_MAX_LIFETIME") {
            guard let seconds = TimeInterval(lifetime), seconds.isFinite, seconds > 0 else {
                throw .configuration("BACKSTREAM_JWT_MAX_LIFETIME is not a positive number of seconds")
            }
            auth.maxTokenLifetime = seconds
        }
        try applyEncryption(environment: env)
        auth.staticTokens = list("BACKSTREAM_ADMIN_TOKENS")
        auth.jwksFile = value("BACKSTREAM_JWKS_FILE")
        if let url = value("BACKSTREAM_JWKS_URL") {
            guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? "") else {
                throw .configuration("BACKSTREAM_JWKS_URL is not an http(s) URL")
            }
            auth.jwksURL = parsed
        }
        auth.issuer = value("BACKSTREAM_JWT_ISSUER")
        auth.authorizedParties = list("BACKSTREAM_JWT_AUTHORIZED_PARTIES")
        if let hook = value("BACKSTREAM_ALERT_WEBHOOK") {
            guard let parsed = URL(string: hook), ["http", "https"].contains(parsed.scheme ?? "") else {
                throw .configuration("BACKSTREAM_ALERT_WEBHOOK is not an http(s) URL")
            }
            alertWebhook = parsed
        }
        if (auth.jwksFile != nil || auth.jwksURL != nil) && auth.issuer == nil {
            throw .configuration("BACKSTREAM_JWT_ISSUER must be set when a JWKS is configured (tokens' iss is pinned to it)")
        }
    }
}
