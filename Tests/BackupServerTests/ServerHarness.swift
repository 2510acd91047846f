import Backup
import BackupServer
import Foundation
import Logging
import TestSupport

/// A real `BackupServer` on a free loopback port in this process, reached over HTTP.
final class ServerHarness: Sendable {
    let server: BackupServer
    let port: Int
    let task: Task<Void, any Error>
    var base: String { "http://127.0.0.1:\(port)" }

    static let staticToken = "static-admin-token-0123456789"
    static let cronSecret = "cron-secret-abcdef"

    /// Chinook plus the guide's activity_log table, copied into `dir`.
    static func database(in dir: TemporaryDirectory) throws -> String {
        let path = try Fixtures.copy(Fixtures.chinook, to: dir, as: "app.db")
        try TestDatabase(path).execute("""
            CREATE TABLE activity_log(id INTEGER PRIMARY KEY AUTOINCREMENT, user_id TEXT, action TEXT NOT NULL,
                                      details TEXT, created_at TEXT DEFAULT CURRENT_TIMESTAMP);
            """)
        return path
    }

    /// The usual configuration: folder store, no schedule, static token + the test JWKS.
    static func configuration(database: String, store: String, keys: TestKeys?,
                              environment extra: [String: String] = [:]) throws -> ServerConfiguration {
        var configuration = ServerConfiguration(databasePath: database,
                                                destination: try BackupDestination.resolve(store, environment: extra.merging(["BACKSTREAM_STORE": ""]) { a, _ in a }))
        configuration.port = 0
        configuration.schedule = nil
        configuration.threads = 2
        configuration.rateLimitBurst = 1000
        configuration.rateLimitPerSecond = 1000
        var environment = ["BACKSTREAM_ADMIN_TOKENS": "other-token, \(staticToken)"]
        if let keys {
            environment["BACKSTREAM_JWKS_FILE"] = keys.jwksFile
            environment["BACKSTREAM_JWT_ISSUER"] = TestClaims.issuer
            environment["BACKSTREAM_JWT_AUTHORIZED_PARTIES"] = TestClaims.party
        }
        try configuration.apply(environment: environment.merging(extra) { $1 })
        return configuration
    }

    private init(server: BackupServer, port: Int, task: Task<Void, any Error>) {
        self.server = server
        self.port = port
        self.task = task
    }

    static func start(_ configuration: ServerConfiguration) async throws -> ServerHarness {
        var logger = Logger(label: "backstream.test")
        logger.logLevel = .warning
        let server = BackupServer(configuration: configuration, logger: logger)
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let task = Task {
            defer { continuation.finish() }
            try await server.run(handleSignals: false) { port in continuation.yield(port) }
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else {
            _ = try await task.value
            throw TestDatabaseError(description: "the server stopped before listening")
        }
        return ServerHarness(server: server, port: port, task: task)
    }

    /// A graceful shutdown, as SIGTERM does it.
    func stop() async {
        await server.shutdown()
        _ = try? await task.value
    }

    func get(_ path: String, bearer: String? = nil) async throws -> HTTPAnswer {
        try await HTTPClient.request("GET", base + path, bearer: bearer)
    }

    func send(_ method: String, _ path: String, bearer: String? = nil) async throws -> HTTPAnswer {
        try await HTTPClient.request(method, base + path, bearer: bearer)
    }
}
