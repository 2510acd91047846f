import Backup
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Synchronization

/// `backstream serve`: the HTTP API of the guide, the admin page, health and metrics, and the
/// built-in schedule, in one service group that shuts down gracefully on SIGTERM.
package struct BackupServer: Sendable {
    package let configuration: ServerConfiguration
    package let coordinator: BackupCoordinator
    let authenticator: AdminAuthenticator
    /// Work-starting requests, per authenticated identity.
    let limiter: TokenBucket
    /// Failed authentication attempts, per peer address.
    let failures: TokenBucket
    let logger: Logger
    private let running = RunningGroup()

    /// The service group of the current `run`, for `shutdown()`.
    private final class RunningGroup: Sendable {
        let group = Mutex<ServiceGroup?>(nil)
    }

    package init(configuration: ServerConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        coordinator = BackupCoordinator(configuration: configuration, logger: logger)
        authenticator = AdminAuthenticator(configuration: configuration.auth)
        limiter = TokenBucket(burst: configuration.rateLimitBurst, perSecond: configuration.rateLimitPerSecond)
        failures = TokenBucket(burst: configuration.rateLimitBurst, perSecond: configuration.rateLimitPerSecond)
    }

    /// Runs until SIGTERM/SIGINT (graceful) or until the task is cancelled. `onListening` gets
    /// the bound port (useful with port 0).
    package func run(handleSignals: Bool = true, onListening: (@Sendable (Int) async -> Void)? = nil) async throws {
        // A JWKS file is configuration and must be readable now; a JWKS URL may be down at
        // start: the loader retries with backoff and tokens get 503 until keys arrive.
        try await authenticator.loadKeyFile()
        let keyLoader = Task { [authenticator] in await authenticator.keepLoadingKeys(logger: logger) }
        defer { keyLoader.cancel() }
        if configuration.auth.staticTokens.isEmpty && !configuration.auth.usesJWT {
            logger.warning("no admin credentials configured: every admin request is refused (set BACKSTREAM_ADMIN_TOKENS or BACKSTREAM_JWKS_URL/_FILE)")
        }
        if configuration.cronSecret == nil {
            logger.warning("CRON_SECRET is not set: GET /api/cron/backup is refused (set CRON_SECRET to enable the cron trigger)")
        }
        let app = buildApplication(onListening: onListening)
        let scheduler = BackupScheduler(clock: configuration.clock, coordinator: coordinator,
                                        shutdownGrace: configuration.shutdownGrace, logger: logger)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: app)]
        if handleSignals, let reload = configuration.reloadFleet {
            services.append(.init(service: ConfigReloader(reload: reload, coordinator: coordinator, logger: logger)))
        }
        services.append(.init(service: scheduler))
        var groupConfiguration = ServiceGroupConfiguration(
            services: services,
            gracefulShutdownSignals: handleSignals ? [.sigterm, .sigint] : [],
            logger: logger)
        // The scheduler (last) drains first: a running backup gets its grace period, then the
        // HTTP server stops; the whole shutdown is bounded.
        groupConfiguration.maximumGracefulShutdownDuration = configuration.shutdownGrace + .seconds(40)
        groupConfiguration.maximumCancellationDuration = .seconds(10)
        let group = ServiceGroup(configuration: groupConfiguration)
        running.group.withLock { $0 = group }
        try await group.run()
        logger.info("stopped")
    }

    /// What SIGHUP does: reads the fleet file again and applies it; false when it was refused
    /// (or there is no file) and the running fleet stays.
    @discardableResult
    package func reload() async -> Bool {
        guard let reload = configuration.reloadFleet else { return false }
        return await ConfigReloader.apply(reload, to: coordinator, logger: logger)
    }

    /// Starts the graceful shutdown that SIGTERM starts: running backups get their grace.
    package func shutdown() async {
        await running.group.withLock { $0 }?.triggerGracefulShutdown()
    }

    /// The HTTP application `run` serves: the router (`buildRouter`) on the configured
    /// address. The scheduler is not part of it; tests drive it in-process with
    /// HummingbirdTesting.
    package func buildApplication(onListening: (@Sendable (Int) async -> Void)? = nil) -> some ApplicationProtocol {
        Application(
            router: buildRouter(),
            // The idle timeout also bounds a request head that never completes (slow headers):
            // the connection's last activity is the last whole request part.
            server: .http1(configuration: .init(idleTimeout: .nanoseconds(Int64(configuration.idleTimeoutSeconds * 1e9)))),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "backstream"),
            onServerRunning: { [logger, configuration] channel in
                let port = channel.localAddress?.port ?? configuration.port
                logger.info("listening", metadata: [
                    "host": "\(configuration.host)", "port": "\(port)",
                    "databases": "\(configuration.fleet.map { "\($0.count) (fleet)" } ?? configuration.databasePath)",
                    "store": "\(configuration.destination.store.displayName)",
                    "schedule": "\(configuration.fleet == nil ? configuration.schedule?.expression ?? "off" : "per database")",
                    "max_concurrent": "\(configuration.maxConcurrent)", "leases": "\(configuration.leases != nil)",
                    "jwt": "\(configuration.auth.usesJWT)", "static_tokens": "\(configuration.auth.staticTokens.count)",
                    "cron_secret": "\(configuration.cronSecret != nil)",
                ])
                await onListening?(port)
            },
            logger: logger)
    }

    /// The routes, one collection per concern, each behind its own authentication.
    func buildRouter() -> Router<ServerRequestContext> {
        let router = Router(context: ServerRequestContext.self)
        let bearer = AdminAuthMiddleware(authenticator: authenticator, failures: failures, logger: logger)
        HealthController(configuration: configuration, coordinator: coordinator).addRoutes(to: router)
        CronController(coordinator: coordinator, logger: logger).addRoutes(to: router.group("/api/cron/backup")
            .add(middleware: CronSecretMiddleware(secret: configuration.cronSecret, failures: failures, limiter: limiter, logger: logger)))
        // The guide's paths address the one database of `serve DB`; `databases/{name}` any database.
        BackupsController(configuration: configuration, coordinator: coordinator, logger: logger, named: false)
            .addRoutes(to: router.group("/api/admin/backup").add(middleware: bearer).add(middleware: WorkRateLimitMiddleware(limiter: limiter)))
        DatabasesController(coordinator: coordinator).addRoutes(to: router.group("/api/admin/databases").add(middleware: bearer))
        BackupsController(configuration: configuration, coordinator: coordinator, logger: logger, named: true)
            .addRoutes(to: router.group("/api/admin/databases/:name/backup").add(middleware: bearer)
                .add(middleware: WorkRateLimitMiddleware(limiter: limiter)))
        AdminPageController(configuration: configuration, coordinator: coordinator,
                            session: AdminSessionMiddleware(authenticator: authenticator, failures: failures),
                            bearer: bearer, logger: logger).addRoutes(to: router)
        return router
    }
}
