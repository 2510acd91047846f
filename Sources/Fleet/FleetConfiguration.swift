import Backup
import Foundation

/// The fleet file of `backstream serve --config backstream.toml`: every database to back up,
/// with the defaults at the top applied. Keys at the top are defaults for every database;
/// each `[[database]]` names exactly one source and may override them:
///
/// ```toml
/// store = "s3://bucket/backups/"   # BackupDestination syntax; a relative folder is relative to this file
/// schedule = "0 2 * * *"           # five-field cron in UTC, or "off"
/// retention_days = 30
/// keep_last = 3
/// compression = "gzip"             # gzip | zstd | none
/// level = 6                        # checked against each database's compression
/// dialect = "sqlite"               # sqlite | d1
/// recipients = ["age1…"]           # age-encrypt every backup to these
/// max_concurrent = 2               # the CLI flag overrides it
/// lease_seconds = 60               # 5…3600
/// lease_confirm_ms = 0              # 0…5000; 250 for a store without atomic conditional writes (moto)
/// [leases]                         # optional: store = "…", prefix = "leases/"
/// [[database]]
/// name = "portal"                  # optional for path (file name without extension), required for d1
/// path = "portal.db"               # relative to this file's folder; must exist
/// [[database]]
/// glob = "/srv/tenants/*.db"       # one database per matching file, named after it
/// [[database]]
/// folder = "/srv/more"             # every SQLite file directly in it
/// [[database]]
/// name = "edge"
/// d1 = "d1://ACCOUNT_ID/DB"
/// prefix = "edge-backups/"         # path and d1 only; default <store prefix><name>/
/// ```
///
/// A database's backups go to `<store prefix><name>/` (the store's own prefix, `backups/` when
/// it has none) unless a path or d1 entry sets `prefix`. Without `store` anywhere the CLI's
/// default applies (`BACKSTREAM_STORE`, else the current folder). Leases live in `[leases]
/// store` (default: the top-level store) under `prefix` (default: the lease store's own
/// prefix, else `leases/` at its root), which may not overlap any database's prefix.
/// `docs/backstream.example.toml` is a complete sample. Every refusal names the line.
package struct FleetConfiguration: Sendable {
    /// Sorted by name; names are unique.
    package var databases: [FleetDatabase]
    /// `max_concurrent` at the top; nil when the file leaves it to the CLI.
    package var maxConcurrent: Int?
    /// Where replicas write their leases: never under a database's backup prefix.
    package var leaseStore: BackupDestination
    /// A lease's time to live (`lease_seconds`).
    package var leaseSeconds: Int
    /// `lease_confirm_ms`: how long a claim waits before reading itself back (0: not at all).
    /// Only for S3-compatible servers that check conditional writes without a lock (moto);
    /// S3, R2 and folder stores check them atomically.
    package var leaseConfirmMilliseconds: Int
    /// What is legal but probably unintended: a glob or folder that found no database.
    package var warnings: [String]

    package static let defaultSchedule = "0 2 * * *"
    package static let defaultLeasePrefix = "leases/"
    package static let defaultLeaseSeconds = 60
    package static let leaseSecondsRange = 5...3600

    package init(databases: [FleetDatabase], maxConcurrent: Int?, leaseStore: BackupDestination,
                 leaseSeconds: Int = FleetConfiguration.defaultLeaseSeconds, leaseConfirmMilliseconds: Int = 0,
                 warnings: [String] = []) {
        self.leaseConfirmMilliseconds = leaseConfirmMilliseconds
        self.databases = databases
        self.maxConcurrent = maxConcurrent
        self.leaseStore = leaseStore
        self.leaseSeconds = leaseSeconds
        self.warnings = warnings
    }

    /// Reads and parses the file at `path`; relative paths inside it are relative to its folder.
    package static func load(path: String, environment: [String: String]) throws(FleetConfigurationError) -> FleetConfiguration {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw FleetConfigurationError(.cannotRead, file: path, line: nil, reason: "cannot read the fleet file: \(error.localizedDescription)")
        }
        let absolute = path.hasPrefix("/") ? path
            : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path)
        let folder = ((absolute as NSString).standardizingPath as NSString).deletingLastPathComponent
        return try parse(text, fileName: path, baseDirectory: folder, environment: environment)
    }

    /// Parses a fleet file's text; `fileName` is for messages, `baseDirectory` anchors relative paths.
    package static func parse(_ text: String, fileName: String, baseDirectory: String,
                              environment: [String: String]) throws(FleetConfigurationError) -> FleetConfiguration {
        var loader = FleetFileLoader(file: fileName, baseDirectory: baseDirectory, environment: environment)
        return try loader.load(text)
    }
}
