import Foundation
import Testing
import TestSupport

/// The built `backstream serve` binary, stopped with SIGTERM.
@Suite("serve binary and SIGTERM", .serialized)
struct GracefulShutdownTests {
    final class Served: @unchecked Sendable {
        let process = Process()
        let port: Int
        let stderrFile: String
        init(port: Int, stderrFile: String) {
            self.port = port
            self.stderrFile = stderrFile
        }
        var base: String { "http://127.0.0.1:\(port)" }
        var log: String { (try? String(contentsOfFile: stderrFile, encoding: .utf8)) ?? "" }

        /// Waits for the exit, at most `seconds`; nil when still running.
        func waitForExit(seconds: Double) async -> Int32? {
            let deadline = Date().addingTimeInterval(seconds)
            while process.isRunning && Date() < deadline { try? await Task.sleep(for: .milliseconds(50)) }
            return process.isRunning ? nil : process.terminationStatus
        }
    }

    static func freePort() async throws -> Int {
        let result = try await HTTPClient.run(["python3", "-c", "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])"])
        guard let port = Int(result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw TestDatabaseError(description: "no free port: \(result.stderrText)")
        }
        return port
    }

    static func serve(_ database: String, store: String, dir: TemporaryDirectory, extra: [String] = []) async throws -> Served {
        try await launch({ port in ["serve", database, "--store", store, "--port", String(port), "--schedule", "off"] + extra },
                         in: dir)
    }

    /// `backstream` with the arguments made for a free port, its stderr in a file of `dir`;
    /// waits until /healthz answers.
    static func launch(_ arguments: (Int) -> [String], in dir: TemporaryDirectory,
                       environment: [String: String] = [:]) async throws -> Served {
        let served = Served(port: try await freePort(), stderrFile: dir.file("serve-\(UUID().uuidString.prefix(6)).log"))
        _ = FileManager.default.createFile(atPath: served.stderrFile, contents: nil)
        served.process.executableURL = URL(fileURLWithPath: Fixtures.backstreamBinary)
        served.process.arguments = arguments(served.port)
        served.process.environment = ProcessInfo.processInfo.environment.merging([
            "BACKSTREAM_ADMIN_TOKENS": ServerHarness.staticToken, "BACKSTREAM_STORE": "",
        ]) { $1 }.merging(environment) { $1 }
        served.process.standardOutput = FileHandle.nullDevice
        served.process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: served.stderrFile))
        try served.process.run()
        for _ in 0..<300 {
            if let answer = try? await HTTPClient.request("GET", served.base + "/healthz", timeout: 2), answer.status == 200 { return served }
            if !served.process.isRunning { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        served.process.terminate()
        throw TestDatabaseError(description: "backstream \(served.process.arguments?.first ?? "") did not come up: \(served.log)")
    }

    /// A database whose backup takes a few seconds (about 40 MB of SQL).
    static func largeDatabase(in dir: TemporaryDirectory) throws -> String {
        let path = dir.file("large.db")
        let db = try TestDatabase(path)
        try db.execute("""
            CREATE TABLE t(id INTEGER PRIMARY KEY, payload BLOB);
            WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 200000)
            INSERT INTO t SELECT x, randomblob(100) FROM c;
            """)
        return path
    }

    @Test("an idle server exits 0 promptly on SIGTERM")
    func idle() async throws {
        let dir = try TemporaryDirectory("serve-sigterm")
        defer { dir.remove() }
        let database = try ServerHarness.database(in: dir)
        let served = try await Self.serve(database, store: dir.file("store"), dir: dir)
        let health = try await HTTPClient.request("GET", served.base + "/healthz")
        #expect(try health.json()["schedule"] as? String == "off")
        kill(served.process.processIdentifier, SIGTERM)
        let status = await served.waitForExit(seconds: 10)
        #expect(status == 0, "\(served.log)")
        #expect(!served.log.contains(ServerHarness.staticToken))
    }

    /// Serves a large database with `grace`, starts a backup, sends SIGTERM while it runs, and
    /// returns the POST's answer (nil when the connection was cut), the exit status and the log.
    private func terminateDuringBackup(grace: Int, dir: TemporaryDirectory) async throws -> (HTTPAnswer?, Int32?, String) {
        let database = try Self.largeDatabase(in: dir)
        let served = try await Self.serve(database, store: dir.file("store"), dir: dir, extra: ["--shutdown-grace", String(grace)])
        async let post = HTTPClient.request("POST", served.base + "/api/admin/backup", bearer: ServerHarness.staticToken)
        try await waitUntilRunning(served)
        kill(served.process.processIdentifier, SIGTERM)
        let answer = try? await post
        let status = await served.waitForExit(seconds: 60)
        return (answer, status, served.log)
    }

    @Test("SIGTERM during a backup lets it finish within the grace period")
    func drainsRunningBackup() async throws {
        let dir = try TemporaryDirectory("serve-drain")
        defer { dir.remove() }
        let (answer, status, log) = try await terminateDuringBackup(grace: 60, dir: dir)
        #expect(answer?.status == 200, "\(answer?.text ?? "")\n\(log)")
        #expect(status == 0, "\(log)")
        let key = try #require(try answer?.json()["key"] as? String)
        #expect(FileManager.default.fileExists(atPath: dir.file("store/\(key)")))
    }

    @Test("SIGTERM with no grace cancels the running backup cleanly: no object is left")
    func cancelsRunningBackup() async throws {
        let dir = try TemporaryDirectory("serve-cancel")
        defer { dir.remove() }
        let (answer, status, log) = try await terminateDuringBackup(grace: 0, dir: dir)
        #expect(answer?.status != 200, "\(answer?.text ?? "")")
        #expect(status == 0, "\(log)")
        let leftovers = (FileManager.default.enumerator(atPath: dir.file("store"))?.allObjects as? [String] ?? [])
            .filter { $0.hasSuffix(".sql.gz") }
        #expect(leftovers.isEmpty, "\(leftovers)")
        #expect(log.contains("cancelling the running backup"), "\(log)")
    }

    /// Polls /healthz from one bash loop (a poll every ~10 ms, even on a loaded machine) until
    /// it shows a running backup.
    private func waitUntilRunning(_ served: Served) async throws {
        let poll = try await HTTPClient.run(["bash", "-c", """
            for i in $(seq 1 2000); do
              curl -s --max-time 2 \(served.base)/healthz | grep -q '"running":{' && exit 0
              sleep 0.005
            done
            exit 1
            """])
        #expect(poll.status == 0, "the backup never showed as running: \(served.log)")
    }
}
