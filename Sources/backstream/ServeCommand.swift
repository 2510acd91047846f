import ArgumentParser
import Backup
import BackupServer
import D1Source
import Fleet
import Foundation

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the backup API and admin page, and back up on a schedule.",
        discussion: """
            Endpoints: GET /healthz, GET /metrics, GET /api/cron/backup, GET|POST|DELETE /api/admin/backup, \
            GET /api/admin/backup/{key}/download, POST /api/admin/backup/{key}/verify, and the page /admin/backups.

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
            """)

    @Argument(help: "The SQLite database to back up, or d1://ACCOUNT_ID/DATABASE (token in CLOUDFLARE_API_TOKEN).")
    var database: String

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
        guard D1Location.matches(database) || FileManager.default.fileExists(atPath: database) else {
            throw ValidationError("\(database) does not exist")
        }
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
            var configuration = ServerConfiguration(databasePath: database, destination: try storeOptions.destination())
            configuration.openSource = try d1.opener(for: database)
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
        } catch {
            Terminal.error(Terminal.describe(error))
            throw ExitCode(1)
        }
    }
}
