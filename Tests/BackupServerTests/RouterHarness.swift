import Backup
@testable import BackupServer
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import TestSupport

/// A `BackupServer`'s router driven in-process (HummingbirdTesting's `.router` mode): no
/// socket, no curl. A folder store and the fixture database in a temporary directory.
struct RouterHarness {
    let dir: TemporaryDirectory
    let configuration: ServerConfiguration

    init(_ name: String, environment: [String: String] = [:], keys: TestKeys? = nil, in dir: TemporaryDirectory? = nil,
         adjust: (inout ServerConfiguration) -> Void = { _ in }) throws {
        let dir = try dir ?? TemporaryDirectory(name)
        self.dir = dir
        let database = try ServerHarness.database(in: dir)
        var configuration = try ServerHarness.configuration(database: database, store: dir.file("store"), keys: keys,
                                                            environment: environment)
        adjust(&configuration)
        self.configuration = configuration
    }

    /// Runs `body` against a fresh server's router (its JWKS file loaded, as `run` does).
    func test<Value: Sendable>(_ body: @Sendable (any TestClientProtocol) async throws -> Value) async throws -> Value {
        var logger = Logger(label: "backstream.router-test")
        logger.logLevel = .critical
        let server = BackupServer(configuration: configuration, logger: logger)
        try await server.authenticator.loadKeyFile()
        return try await server.buildApplication().test(.router, body)
    }

    static func bearer(_ token: String) -> HTTPFields { [.authorization: "Bearer \(token)"] }
    static let admin = bearer(ServerHarness.staticToken)
}

extension TestResponse {
    var text: String { String(buffer: body) }

    func json() throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any] else {
            throw TestDatabaseError(description: "not a JSON object: \(text)")
        }
        return object
    }
}
