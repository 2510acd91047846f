import Backup
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Synchronization

/// `backstream serve`: the HTTP API of the guide, the admin page, health and metrics, and the
/// built-in schedule, in one service group that shuts down gracefully on SIGTERM.
public struct BackupServer: Sendable {
    public let configuration: ServerConfiguration
    public let coordinator: BackupCoordinator
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

    public init(configuration: ServerConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        coordinator = BackupCoordinator(configuration: configuration, logger: logger)
        authenticator = AdminAuthenticator(configuration: configuration.auth)
        limiter = TokenBucket(burst: configuration.rateLimitBurst, perSecond: configuration.rateLimitPerSecond)
        failures = TokenBucket(burst: configuration.rateLimitBurst, perSecond: configuration.rateLimitPerSecond)
    }

    /// Runs until SIGTERM/SIGINT (graceful) or until the task is cancelled. `onListening` gets
    /// the bound port (useful with port 0).
    public func run(handleSignals: Bool = true, onListening: (@Sendable (Int) async -> Void)? = nil) async throws {
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
        let app = Application(
            router: makeRouter(),
            // The idle timeout also bounds a request head that never completes (slow headers):
            // the connection's last activity is the last whole request part.
            server: .http1(configuration: .init(idleTimeout: .nanoseconds(Int64(configuration.idleTimeoutSeconds * 1e9)))),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "backstream"),
            onServerRunning: { [logger, configuration] channel in
                let port = channel.localAddress?.port ?? configuration.port
                logger.info("listening", metadata: [
                    "host": "\(configuration.host)", "port": "\(port)",
                    "database": "\(configuration.databasePath)", "store": "\(configuration.destination.store.displayName)",
                    "schedule": "\(configuration.schedule?.expression ?? "off")",
                    "jwt": "\(configuration.auth.usesJWT)", "static_tokens": "\(configuration.auth.staticTokens.count)",
                    "cron_secret": "\(configuration.cronSecret != nil)",
                ])
                await onListening?(port)
            },
            logger: logger)
        let scheduler = BackupScheduler(schedule: configuration.schedule, clock: configuration.clock, coordinator: coordinator,
                                        shutdownGrace: configuration.shutdownGrace, logger: logger)
        var groupConfiguration = ServiceGroupConfiguration(
            services: [.init(service: app), .init(service: scheduler)],
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

    /// Starts the graceful shutdown that SIGTERM starts: running backups get their grace.
    public func shutdown() async {
        await running.group.withLock { $0 }?.triggerGracefulShutdown()
    }

    // MARK: Routes

    func makeRouter() -> Router<ServerRequestContext> {
        let router = Router(context: ServerRequestContext.self)
        router.get("/healthz") { _, _ in await health() }
        router.get("/metrics") { _, _ in await metrics() }
        router.get("/api/cron/backup") { request, context in await cronBackup(request, peer: context.peer) }
        router.post("/api/admin/backup") { request, context in
            await admin(request, peer: context.peer, limited: true) { userID in await createBackup(userID: userID) }
        }
        router.get("/api/admin/backup") { request, context in
            await admin(request, peer: context.peer, limited: false) { _ in await listBackups() }
        }
        router.delete("/api/admin/backup") { request, context in
            await admin(request, peer: context.peer, limited: true) { userID in await cleanup(userID: userID) }
        }
        router.get("/api/admin/backup/**") { request, context in
            await admin(request, peer: context.peer, limited: false) { _ in await download(request, close: context.closeConnection) }
        }
        router.post("/api/admin/backup/**") { request, context in
            await admin(request, peer: context.peer, limited: true) { _ in await verify(request) }
        }
        router.get("/admin/backups") { request, context in await adminPage(request, peer: context.peer) }
        router.post("/admin/session") { request, context in await createSession(request, peer: context.peer) }
        router.delete("/admin/session") { request, _ in deleteSession(request) }
        router.get("/admin") { _, _ in Response(status: .seeOther, headers: [.location: "/admin/backups"]) }
        return router
    }

    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        fields[.cacheControl] = "no-store"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(string: value.rendered + "\n")))
    }

    static func error(_ message: String, status: HTTPResponse.Status, extra: [(String, JSONValue)] = [],
                      headers: HTTPFields = [:]) -> Response {
        json(.object([("error", .string(message))] + extra), status: status, headers: headers)
    }

    /// The answer to an error thrown by a job: a sentence and a request id; the detail is
    /// logged under that id.
    func failure(_ error: any Error, _ operation: String) -> Response {
        let (status, sentence) = PublicError.describe(error)
        let requestID = PublicError.newRequestID()
        var extra: [(String, JSONValue)] = []
        if case ServerError.busy(let started, let holder) = error {
            if let started { extra.append(("started", .string(BackupMetadata.iso8601(started)))) }
            if let holder { extra.append(("holder", .string(holder))) }
        }
        extra.append(("request_id", .string(requestID)))
        let level: Logger.Level = status.code >= 500 ? .error : .notice
        logger.log(level: level, "\(operation) failed", metadata: ["request_id": "\(requestID)", "status": "\(status.code)", "error": "\(error)"])
        let message = status == .conflict || status.code < 500 ? sentence : "\(operation) failed: \(sentence) (request id \(requestID))"
        return Self.error(message, status: status, extra: extra)
    }

    /// Admin authentication, then the rate limit, then `body`. A failed attempt takes a token
    /// of its peer address's bucket (429 once empty); an authenticated caller is never held
    /// back by others' failures: work-starting requests take from its own identity's bucket.
    func admin(_ request: Request, peer: String, limited: Bool, _ body: (String) async -> Response) async -> Response {
        let outcome = await authenticator.authenticate(authorization: request.headers[.authorization])
        if case .admin(let userID) = outcome {
            if limited, let wait = limiter.take("user:" + userID) {
                return Self.tooMany(wait)
            }
            return await body(userID)
        }
        if case .unavailable(let reason) = outcome {
            logger.warning("admin token not checked", metadata: ["path": "\(request.uri.path)", "reason": "\(reason)"])
            return Self.error(reason, status: .serviceUnavailable, headers: [.retryAfter: "5"])
        }
        if let wait = failures.take("addr:" + peer) { return Self.tooMany(wait) }
        switch outcome {
        case .forbidden(let reason):
            logger.notice("admin request forbidden", metadata: ["path": "\(request.uri.path)", "peer": "\(peer)", "reason": "\(reason)"])
            return Self.error("forbidden: \(reason)", status: .forbidden)
        case .unauthorized(let reason):
            logger.notice("admin request refused", metadata: ["path": "\(request.uri.path)", "peer": "\(peer)", "reason": "\(reason)"])
            return Self.error("unauthorized: \(reason)", status: .unauthorized, headers: [.wwwAuthenticate: "Bearer"])
        default:
            return Self.error("unauthorized", status: .unauthorized, headers: [.wwwAuthenticate: "Bearer"])
        }
    }

    static func tooMany(_ wait: Int) -> Response {
        error("too many requests; retry in \(wait) s", status: .tooManyRequests, headers: [.retryAfter: String(wait)])
    }

    // MARK: Handlers

    func cronBackup(_ request: Request, peer: String) async -> Response {
        // A state-changing GET without a secret would be open to any <img> tag: refused.
        guard let secret = configuration.cronSecret else {
            return Self.error("the cron trigger is disabled: the server has no CRON_SECRET configured", status: .forbidden)
        }
        let token = request.headers[.authorization].flatMap(AdminAuthenticator.bearer)
        guard let token, ConstantTime.equals(token, secret) else {
            if let wait = failures.take("addr:" + peer) { return Self.tooMany(wait) }
            logger.notice("cron request refused", metadata: ["peer": "\(peer)", "reason": "\(token == nil ? "missing bearer token" : "wrong secret")"])
            return Self.error("unauthorized", status: .unauthorized, headers: [.wwwAuthenticate: "Bearer"])
        }
        if let wait = limiter.take("cron") { return Self.tooMany(wait) }
        do {
            let result = try await coordinator.backup(trigger: .scheduled, userID: nil)
            return Self.json(.object([
                ("success", .bool(true)), ("key", .string(result.key)), ("size", .int(Int64(result.size))),
                ("deleted_count", .int(Int64(result.deletedCount ?? 0))),
            ]))
        } catch {
            return failure(error, "the backup")
        }
    }

    func createBackup(userID: String) async -> Response {
        do {
            let result = try await coordinator.backup(trigger: .manual, userID: userID)
            return Self.json(.object([
                ("success", .bool(true)), ("key", .string(result.key)), ("size", .int(Int64(result.size))),
                ("metadata", .object(result.metadata.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })),
                ("deleted_count", .int(Int64(result.deletedCount ?? 0))),
            ]))
        } catch {
            return failure(error, "the backup")
        }
    }

    func listBackups() async -> Response {
        let destination = configuration.destination
        do {
            let entries = try await BlockingWork.run {
                try BackupListing.entries(in: destination.store, prefix: destination.prefix)
            }
            return Self.json(BackupListing.json(entries))
        } catch {
            return failure(error, "listing the backups")
        }
    }

    func cleanup(userID: String) async -> Response {
        let destination = configuration.destination, policy = configuration.retention, database = configuration.databasePath
        do {
            let result = try await BlockingWork.run {
                try PruneJob.run(destination: destination, policy: policy, dryRun: false, databasePath: database, userID: userID)
            }
            logger.info("cleanup", metadata: ["deleted_count": "\(result.deleted.count)"])
            return Self.json(result.json)
        } catch {
            return failure(error, "the clean-up")
        }
    }

    /// The key in `/api/admin/backup/<url-encoded key>/<action>`.
    func backupEntry(_ request: Request, action: String) async throws -> BackupEntry {
        let base = "/api/admin/backup/"
        let path = request.uri.path
        guard path.hasPrefix(base), path.hasSuffix("/" + action), path.count > base.count + action.count + 1 else {
            throw ServerError.notFound("use /api/admin/backup/{key}/\(action)")
        }
        let encoded = path.dropFirst(base.count).dropLast(action.count + 1)
        guard let key = String(encoded).removingPercentEncoding, !key.isEmpty else {
            throw ServerError.badRequest("the key is not valid URL encoding")
        }
        // S3 keys are at most 1024 bytes; control characters are never part of a backup key.
        guard key.utf8.count <= 1024, !key.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw ServerError.badRequest("the key is too long or contains control characters")
        }
        let destination = configuration.destination
        // Only keys of backups directly under the configured prefix: never `..`, never another folder.
        let full = key.contains("/") ? key : destination.prefix + key
        guard full.hasPrefix(destination.prefix), !full.split(separator: "/").contains("..") else {
            throw ServerError.notFound("the key is not a backup under the configured prefix")
        }
        guard BackupKey(key: full, prefix: destination.prefix) != nil else { throw BackupError.notABackup(key: full) }
        return try await BlockingWork.run { try destination.resolveKey(full) }
    }

    func download(_ request: Request, close: @escaping @Sendable () -> Void) async -> Response {
        let entry: BackupEntry
        do {
            entry = try await backupEntry(request, action: "download")
        } catch {
            return failure(error, "the download")
        }
        let store = configuration.destination.store
        let key = entry.info.key
        let stream = DownloadStream()
        let log = logger
        let name = (key as NSString).lastPathComponent.replacingOccurrences(of: "\"", with: "")
        let headers: HTTPFields = [
            .contentType: entry.key.compressed ? "application/gzip" : "application/sql",
            .contentDisposition: "attachment; filename=\"\(name)\"",
            .cacheControl: "no-store",
        ]
        let stall = configuration.downloadStallSeconds
        return Response(status: .ok, headers: headers, body: ResponseBody(contentLength: entry.info.size) { writer in
            // A download runs on a thread of its own, never on the pool the API's work shares.
            let producer = Task {
                do {
                    try await BlockingWork.run(stackSize: 512 * 1024) { try store.get(key: key, into: stream) }
                } catch {
                    stream.abort(error)
                    log.error("download failed", metadata: ["key": "\(key)", "error": "\(error)"])
                }
            }
            // A client that stops reading for `stall` seconds is cut off: the connection is
            // closed (the pending write fails) and the download thread released.
            let watch = ProgressWatch()
            let watchdog = Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(200))
                    if watch.idleSeconds > stall {
                        log.notice("download stalled; closing the connection", metadata: ["key": "\(key)", "stall_s": "\(stall)"])
                        stream.stop()
                        close()
                        return
                    }
                }
            }
            defer { watchdog.cancel() }
            do {
                for try await buffer in stream.buffers {
                    try await writer.write(buffer)
                    watch.touch()
                    stream.consumed()
                }
            } catch {
                // The client went away or the download failed: release the download thread.
                stream.stop()
                producer.cancel()
                throw error
            }
            try await writer.finish(nil)
        })
    }

    func verify(_ request: Request) async -> Response {
        do {
            let entry = try await backupEntry(request, action: "verify")
            let destination = configuration.destination
            let report = try await BlockingWork.run { try VerifyJob.run(entry, from: destination) }
            logger.info("verify", metadata: ["key": "\(entry.info.key)", "ok": "\(report.ok)"])
            return Self.json(report.json, status: report.ok ? .ok : .unprocessableContent)
        } catch {
            return failure(error, "the verification")
        }
    }

    // MARK: Health and metrics

    func health() async -> Response {
        let c = coordinator
        let lastRun = await c.lastRun, lastSuccess = await c.lastSuccess, next = await c.nextScheduledRun, running = await c.running
        let status = lastRun.map { $0.ok ? "ok" : "failing" } ?? "ok"
        return Self.json(.object([
            ("status", .string(status)),
            ("schedule", .string(configuration.schedule?.expression ?? "off")),
            ("next_run", next.map { .string(BackupMetadata.iso8601($0)) } ?? .null),
            ("running", running.map { .object([("started", .string(BackupMetadata.iso8601($0.started))),
                                               ("trigger", .string($0.trigger.rawValue))]) } ?? .null),
            ("last_backup", lastRun?.json ?? .null),
            ("last_success", lastSuccess.map { .string(BackupMetadata.iso8601($0.finished)) } ?? .null),
        ]))
    }

    func metrics() async -> Response {
        let c = coordinator
        let total = await c.backupsTotal, failed = await c.backupsFailedTotal, bytes = await c.uploadedBytesTotal
        let lastSuccess = await c.lastSuccess, lastRun = await c.lastRun
        var text = ""
        func metric(_ name: String, _ type: String, _ help: String, _ value: String) {
            text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n\(name) \(value)\n"
        }
        metric("backstream_backups_total", "counter", "Backups attempted by this server (scheduled, cron endpoint and admin).", String(total))
        metric("backstream_backups_failed_total", "counter", "Backups that failed.", String(failed))
        metric("backstream_last_success_timestamp_seconds", "gauge", "Unix time the last successful backup finished (0: none yet).",
               lastSuccess.map { String(format: "%.3f", $0.finished.timeIntervalSince1970) } ?? "0")
        metric("backstream_last_duration_seconds", "gauge", "Duration of the last backup, successful or not.",
               lastRun.map { String(format: "%.3f", $0.seconds) } ?? "0")
        metric("backstream_uploaded_bytes_total", "counter", "Compressed bytes uploaded by successful backups.", String(bytes))
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

/// The request context: Hummingbird's basic one plus the peer address the rate limit keys on.
public struct ServerRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The peer's IP address ("unknown" for a Unix socket).
    public let peer: String

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        peer = source.channel.remoteAddress?.ipAddress ?? "unknown"
        closeConnection = { [channel = source.channel] in channel.close(promise: nil) }
    }

    /// Closes this request's connection (a stalled download).
    public let closeConnection: @Sendable () -> Void
}

/// When a download last made progress, for its stall timeout.
final class ProgressWatch: Sendable {
    private let last = Atomic<Int64>(ProgressWatch.now())
    private static func now() -> Int64 {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Int64(t.tv_sec) * 1_000_000_000 + Int64(t.tv_nsec)
    }
    func touch() { last.store(Self.now(), ordering: .relaxed) }
    var idleSeconds: Double { Double(Self.now() - last.load(ordering: .relaxed)) / 1e9 }
}
