import ArgumentParser
import Backup
import BackupServer
import D1Source
import Fleet
import Fleet
import Foundation

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the backup API and admin page, and back up on a schedule.",
        discussion: """
            Endpoints: GET /healthz, GET /metrics, GET /api/cron/backup, GET|POST|DELETE /api/admin/backup, \
            GET /api/admin/backup/{key}/download, POST /api/admin/backup/{key}/verify, and the page /admin/backups.

            A fleet: `--config backstream.toml` lists many databases (paths, globs, folders of SQLite files, d1:// \
            sources; see docs/backstream.example.toml) instead of DATABASE and its flags. Each database is addressed as \
            /api/admin/databases/{name}/backup (same verbs and answers as /api/admin/backup), GET /api/admin/databases \
            lists them, /metrics labels every series with `database`, and SIGHUP reloads the file (a bad file is \
            refused and the running configuration kept). Any number of `serve --config` processes may share one file \
            and store: each scheduled run is claimed with a lease object in the store (conditional PUT), so it runs \
            exactly once; a replica that dies mid-backup leaves a lease that expires and another takes the run over.

            Environment: CRON_SECRET (Bearer secret of /api/cron/backup; without it the cron GET is refused), BACKSTREAM_ADMIN_TOKENS \
            (comma-separated static admin tokens), BACKSTREAM_JWKS_URL or BACKSTREAM_JWKS_FILE with \
            BACKSTREAM_JWT_ISSUER and optionally BACKSTREAM_JWT_AUTHORIZED_PARTIES (RS256 session tokens; \
            admin when role, metadata.role or public_metadata.role is "admin"), BACKSTREAM_ALERT_WEBHOOK \
            (JSON POST when a scheduled backup fails), BACKSTREAM_JWT_MAX_LIFETIME (longest token lifetime in seconds, \
            default 86400), BACKSTREAM_SECURE_COOKIE=1 (mark the admin session cookie Secure; it is also Secure when a \
            proxy sends X-Forwarded-Proto: https), BACKSTREAM_AGE_RECIPIENTS (age1… keys, comma-separated: backups are \
            encrypted to them), BACKSTREAM_AGE_IDENTITY (path of an age-keygen key file: verify decrypts with it).

            Examples:
              backstream serve app.db --store r2://bucket/backups/
              backstream serve app.db --schedule "0 */6 * * *" --keep-last 7
              backstream serve app.db --schedule off --port 9000
              backstream serve app.db --compression zstd --level 6
              backstream serve --config backstream.toml --max-concurrent 4
            """)

    @Argument(help: "The SQLite database to back up, or d1://ACCOUNT_ID/DATABASE (token in CLOUDFLARE_API_TOKEN). Not with --config.")
    var database: String?

    @Option(help: "A TOML file listing the databases to back up, with their stores, schedules and retention (SIGHUP reloads it).")
    var config: String?

    @Option(help: ArgumentHelp(
        "Backups at once in the whole process (default: `max_concurrent` in the config file, else \(ServerConfiguration.defaultMaxConcurrent)).",
        discussion: "Each backup stays under 64 MiB of memory, so the process stays under 64 MiB × this; runs that fall due beyond it wait their turn in due order."))
    var maxConcurrent: Int?

    @OptionGroup var d1: D1Options

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var retention: RetentionOptions
    @OptionGroup var compressionOptions: CompressionOptions

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0: any free port, logged at start).")
    var port = 8080

    @Option(help: "Five-field cron expression in UTC for the built-in schedule, or `off`.")
    var schedule = "0 2 * * *"

    @Option(help: "Seconds a shutdown (SIGTERM) waits for a running backup before cancelling it.")
    var shutdownGrace = 30

    @Option(help: "Seconds a connection may stay idle, or take to send its request head, before it is closed.")
    var idleTimeout = 30

    @Option(help: "Seconds a download may make no progress (the client stopped reading) before it is cut off.")
    var downloadStallTimeout = 30

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel = "info"

    func validate() throws {
        switch (database, config) {
        case (nil, nil): throw ValidationError("name a DATABASE to back up, or a fleet with --config FILE")
        case (.some, .some): throw ValidationError("give a DATABASE or --config, not both (the file lists the databases)")
        case (.some(let database), nil):
            guard D1Location.matches(database) || FileManager.default.fileExists(atPath: database) else {
                throw ValidationError("\(database) does not exist")
            }
        case (nil, .some):
            guard storeOptions.store == nil else { throw ValidationError("--store is not used with --config: set `store` in the file") }
        }
        if let maxConcurrent, !(1...64).contains(maxConcurrent) { throw ValidationError("--max-concurrent must be between 1 and 64") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        guard idleTimeout > 0, downloadStallTimeout > 0 else { throw ValidationError("--idle-timeout and --download-stall-timeout must be positive") }
        guard shutdownGrace >= 0 else { throw ValidationError("--shutdown-grace must not be negative") }
        try compressionOptions.validate(for: compressionOptions.compression ?? .gzip)
        guard ServerLogging.level(named: logLevel) != nil else { throw ValidationError("--log-level \(logLevel) is not a level") }
        if schedule.lowercased() != "off" {
            do {
                _ = try CronSchedule(schedule)
            } catch {
                throw ValidationError("--schedule: \(error)")
            }
        }
    }

    func run() async throws {
        let logger = ServerLogging.logger(level: ServerLogging.level(named: logLevel) ?? .info)
        do {
            var configuration: ServerConfiguration
            if let config {
                configuration = try fleetConfiguration(config)
            } else {
                let database = database ?? ""
                configuration = ServerConfiguration(databasePath: database, destination: try storeOptions.destination())
                configuration.openSource = try d1.opener(for: database)
                configuration.maxConcurrent = maxConcurrent ?? ServerConfiguration.defaultMaxConcurrent
            }
            configuration.host = host
            configuration.port = port
            configuration.schedule = schedule.lowercased() == "off" ? nil : try CronSchedule(schedule)
            configuration.retention = retention.policy
            configuration.compression = compressionOptions.compression ?? .gzip
            configuration.level = compressionOptions.level
            configuration.threads = compressionOptions.threads
            configuration.shutdownGrace = .seconds(shutdownGrace)
            configuration.idleTimeoutSeconds = Double(idleTimeout)
            configuration.downloadStallSeconds = Double(downloadStallTimeout)
            try configuration.apply(environment: ProcessInfo.processInfo.environment)
            try await BackupServer(configuration: configuration, logger: logger).run()
        } catch let error as FleetConfigurationError {
            Terminal.error("\(error)")
            throw ExitCode(1)
        } catch {
            Terminal.error(Terminal.describe(error))
            throw ExitCode(1)
        }
    }

    /// The fleet of `--config`; the same load runs again on SIGHUP.
    private func fleetConfiguration(_ path: String) throws -> ServerConfiguration {
        let environment = ProcessInfo.processInfo.environment
        // The flag wins over the file, at start and on every reload.
        let flag = maxConcurrent
        let budget: @Sendable (FleetConfiguration) -> Int = { flag ?? $0.maxConcurrent ?? ServerConfiguration.defaultMaxConcurrent }
        let load: ServerConfiguration.FleetLoader = {
            let file = try FleetConfiguration.load(path: path, environment: environment)
            return ServerConfiguration.LoadedFleet(databases: file.databases, maxConcurrent: budget(file), warnings: file.warnings)
        }
        let file = try FleetConfiguration.load(path: path, environment: environment)
        for warning in file.warnings { Terminal.status("backstream: warning: \(warning)\n") }
        guard let first = file.databases.first else { throw ValidationError("\(path) lists no database") }
        var configuration = ServerConfiguration(databasePath: first.source, destination: first.destination)
        configuration.fleet = file.databases
        configuration.maxConcurrent = budget(file)
        configuration.leases = .init(destination: file.leaseStore, ttl: TimeInterval(file.leaseSeconds),
                                     confirm: Double(file.leaseConfirmMilliseconds) / 1000)
        configuration.reloadFleet = load
        return configuration
    }
}
