import Backup
import Compression
import Encryption
import Fleet
import Foundation

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
