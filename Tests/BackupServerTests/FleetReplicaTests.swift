import Backup
import Fleet
import Foundation
import ObjectStore
import Testing
import TestSupport

/// Several `backstream serve --config` processes sharing one file and one moto bucket.
@Suite("Fleet replicas", .serialized)
struct FleetReplicaTests {
    typealias Served = GracefulShutdownTests.Served

    /// `serve --config` on a free port with `environment` added; waits for /healthz.
    static func serve(config: String, dir: TemporaryDirectory, environment: [String: String] = [:],
                      extra: [String] = []) async throws -> Served {
        try await GracefulShutdownTests.launch({ port in ["serve", "--config", config, "--port", String(port)] + extra },
                                               in: dir, environment: environment)
    }

    /// Keys the logs say were written by a completed backup.
    static func completedKeys(_ log: String) -> [String] {
        log.split(separator: "\n").filter { $0.contains("backup completed") }.compactMap { line in
            line.split(separator: " ").first { $0.hasPrefix("key=") }.map { String($0.dropFirst(4)) }
        }
    }

    @Test("3 replicas, 50 databases, every minute for 3 minutes: each run once, a replica killed mid-backup is taken over, no key written twice")
    func threeReplicas() async throws {
        let s3 = try S3TestServer()
        let bucket = try s3.makeBucket("fleet")
        let dir = try TemporaryDirectory("fleet-replicas")
        defer { dir.remove() }
        let tenants = dir.file("tenants")
        try FileManager.default.createDirectory(atPath: tenants, withIntermediateDirectories: true)
        _ = try FleetServerTests.databases(49, inFolder: tenants)
        // One database slow enough (about 40 MB of SQL) to be caught mid-backup.
        let slow = try GracefulShutdownTests.largeDatabase(in: dir)
        let config = dir.file("backstream.toml")
        try """
            store = "s3://\(bucket)/fleet/"
            schedule = "* * * * *"
            lease_seconds = 6
            lease_confirm_ms = 250
            max_concurrent = 2
            [[database]]
            glob = "\(tenants)/tenant-*.db"
            [[database]]
            name = "slow"
            path = "\(slow)"
            """.write(toFile: config, atomically: true, encoding: .utf8)

        var replicas: [Served] = []
        for _ in 0..<3 { replicas.append(try await Self.serve(config: config, dir: dir, environment: s3.environment)) }
        defer { for replica in replicas where replica.process.isRunning { replica.process.terminate() } }
        let (store, _) = try StoreLocation.parse("s3://\(bucket)/", environment: s3.environment)

        // The runs counted: the three minutes after every replica is up.
        let upAt = Date()
        let first = (upAt.timeIntervalSince1970 / 60).rounded(.down) * 60 + 60
        let minutes = (0..<3).map { Date(timeIntervalSince1970: first + Double($0) * 60) }
        let leaseKey = "leases/slow/\(LeaseManager.runID(scheduled: minutes[0])).json"

        // During the first minute's run of `slow`, SIGKILL the replica holding its lease.
        var killed: Served?
        while killed == nil && Date().timeIntervalSince1970 < first + 50 {
            if let lease = try? Self.read(store, leaseKey), lease["state"] as? String == "running",
               let holder = lease["holder"] as? String, let pid = holder.split(separator: ":").dropFirst().first.flatMap({ Int32($0) }),
               let victim = replicas.first(where: { $0.process.processIdentifier == pid }) {
                kill(pid, SIGKILL)
                killed = victim
            } else {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        let victim = try #require(killed, "no replica was seen holding the lease of slow's first run")
        _ = await victim.waitForExit(seconds: 10)

        // The lease expires (6 s) and a surviving replica finishes the run.
        var takenOver: [String: Any] = [:]
        for _ in 0..<300 {
            takenOver = (try? Self.read(store, leaseKey)) ?? [:]
            if takenOver["state"] as? String == "done" { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(takenOver["state"] as? String == "done", "\(takenOver)")
        #expect(takenOver["holder"] as? String != nil && !(takenOver["holder"] as? String ?? "").contains(":\(victim.process.processIdentifier):"),
                "\(takenOver)")

        // Past the third minute's runs, stop the survivors.
        while Date().timeIntervalSince1970 < first + 120 + 45 { try await Task.sleep(for: .seconds(1)) }
        for replica in replicas where replica.process.isRunning {
            replica.process.terminate()
            _ = await replica.waitForExit(seconds: 60)
        }

        let names = (0..<49).map { String(format: "tenant-%02d", $0) } + ["slow"]
        // The whole bucket, filtered here: moto refuses the signature of a listing whose prefix
        // has a '/' before its end (the aws CLI's too), so `fleet/` cannot be listed there.
        let objects = try store.list(prefix: "").filter { $0.key.hasPrefix("fleet/") }
        for name in names {
            let stamps = objects.compactMap { BackupKey(key: $0.key, prefix: "fleet/\(name)/")?.timestamp }
            for minute in minutes {
                #expect(stamps.filter { $0 == minute }.count == 1, "\(name) at \(minute): \(stamps)")
            }
        }
        // Every object is one completed backup in exactly one replica's log, and every logged
        // key is there: no key was written twice.
        let logged = replicas.flatMap { Self.completedKeys($0.log) }
        #expect(Set(logged).count == logged.count, "a key was written twice: \(logged.sorted())")
        let stored = Set(objects.map(\.key).filter { BackupKey(key: $0, prefix: ($0 as NSString).deletingLastPathComponent + "/") != nil })
        #expect(Set(logged).isSubset(of: stored), "logged but not stored: \(Set(logged).subtracting(stored))")
        // The killed replica may have stored a backup (it runs 2 at once) and died before logging
        // it; the replica that took that run over found the key taken and overwrote nothing.
        #expect(stored.subtracting(logged).count <= 2, "stored but never logged: \(stored.subtracting(logged))")
        #expect(replicas.filter { $0 !== victim }.allSatisfy { $0.process.terminationStatus == 0 })
    }

    static func read(_ store: any ObjectStore, _ key: String) throws -> [String: Any]? {
        let sink = CollectingSink()
        guard try store.head(key: key) != nil else { return nil }
        try store.get(key: key, into: sink)
        return try JSONSerialization.jsonObject(with: Data(sink.bytes)) as? [String: Any]
    }
}

/// `serve --config` as a process: refusals at start, SIGHUP, an unreachable store, and 500
/// databases in one process.
@Suite("Fleet processes")
struct FleetProcessTests {
    static let token = ServerHarness.staticToken

    static func names(_ served: GracefulShutdownTests.Served) async throws -> [String] {
        let listed = try await HTTPClient.request("GET", served.base + "/api/admin/databases", bearer: token).json()
        return (listed["databases"] as? [[String: Any]])?.compactMap { $0["name"] as? String } ?? []
    }

    @Test("a bad file is refused at start with its line and reason, and nothing is served")
    func badConfig() async throws {
        let dir = try TemporaryDirectory("fleet-bad")
        defer { dir.remove() }
        let paths = try FleetServerTests.databases(1, in: dir)
        let config = dir.file("fleet.toml")
        try """
            store = "\(dir.file("store"))"
            schedule = "*/61 * * * *"
            [[database]]
            path = "\(paths[0])"
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let result = try ProcessRunner.run([Fixtures.backstreamBinary, "serve", "--config", config, "--port", "0"])
        #expect(result.status == 1)
        #expect(result.stderrText.contains("fleet.toml:2:") && result.stderrText.contains("schedule"), "\(result.stderrText)")
        #expect(!result.stderrText.contains("listening"))
    }

    @Test("SIGHUP reloads the file; a bad reload keeps the running fleet and says why")
    func sighup() async throws {
        let dir = try TemporaryDirectory("fleet-hup")
        defer { dir.remove() }
        let paths = try FleetServerTests.databases(3, in: dir)
        let config = dir.file("fleet.toml")
        func write(_ entries: [String], extra: String = "") throws {
            let body = entries.map { "[[database]]\npath = \"\($0)\"\n" }.joined()
            try "store = \"\(dir.file("store"))\"\nschedule = \"off\"\n\(extra)\n\(body)".write(toFile: config, atomically: true, encoding: .utf8)
        }
        try write(Array(paths.prefix(2)))
        let served = try await FleetReplicaTests.serve(config: config, dir: dir)
        defer { served.process.terminate() }
        #expect(try await Self.names(served) == ["tenant-00", "tenant-01"])

        try write(Array(paths.suffix(2)))
        kill(served.process.processIdentifier, SIGHUP)
        var names: [String] = []
        for _ in 0..<100 {
            names = try await Self.names(served)
            if names == ["tenant-01", "tenant-02"] { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(names == ["tenant-01", "tenant-02"], "\(served.log)")

        try write(paths, extra: "retention_days = -1")
        kill(served.process.processIdentifier, SIGHUP)
        for _ in 0..<100 where !served.log.contains("reload refused") { try await Task.sleep(for: .milliseconds(100)) }
        #expect(served.log.contains("reload refused") && served.log.contains("retention"), "\(served.log)")
        #expect(served.process.isRunning)
        #expect(try await Self.names(served) == ["tenant-01", "tenant-02"])
        let created = try await HTTPClient.request("POST", served.base + "/api/admin/databases/tenant-02/backup", bearer: Self.token)
        #expect(created.status == 200, "\(created.text)")
    }

    @Test("an unreachable store: the run fails naming the lease stage, the server stays up and reports it")
    func unreachableStore() async throws {
        let dir = try TemporaryDirectory("fleet-unreachable")
        defer { dir.remove() }
        let paths = try FleetServerTests.databases(1, in: dir)
        let config = dir.file("fleet.toml")
        try """
            store = "s3://nowhere/fleet/"
            schedule = "off"
            [[database]]
            path = "\(paths[0])"
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let closed = try await GracefulShutdownTests.freePort()
        let served = try await FleetReplicaTests.serve(config: config, dir: dir, environment: [
            "AWS_ENDPOINT_URL": "http://127.0.0.1:\(closed)", "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret-never-shown",
            "AWS_REGION": "us-east-1",
        ])
        defer { served.process.terminate() }
        let answer = try await HTTPClient.request("POST", served.base + "/api/admin/databases/tenant-00/backup", bearer: Self.token, timeout: 120)
        #expect((500..<600).contains(answer.status), "\(answer.status) \(answer.text)")
        #expect(served.log.contains("claiming the run's lease"), "\(served.log)")
        #expect(!served.log.contains("secret-never-shown") && !answer.text.contains("secret-never-shown"))
        #expect(served.process.isRunning)
        let health = try await HTTPClient.request("GET", served.base + "/healthz").json()
        #expect(health["status"] as? String == "failing" && health["failing"] as? [String] == ["tenant-00"], "\(health)")
    }

    @Test("500 databases in one process: every one backed up on the minute, peak memory under 64 MiB × max_concurrent")
    func fiveHundred() async throws {
        let dir = try TemporaryDirectory("fleet-500")
        defer { dir.remove() }
        let tenants = dir.file("tenants")
        try FileManager.default.createDirectory(atPath: tenants, withIntermediateDirectories: true)
        _ = try FleetServerTests.databases(500, inFolder: tenants)
        let config = dir.file("fleet.toml")
        try """
            store = "\(dir.file("store"))"
            schedule = "* * * * *"
            max_concurrent = 2
            [[database]]
            folder = "\(tenants)"
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let served = try await FleetReplicaTests.serve(config: config, dir: dir, extra: ["--log-level", "warning"])
        defer { served.process.terminate() }
        #expect(try await Self.names(served).count == 500)
        var done = 0
        let deadline = Date().addingTimeInterval(240)
        while Date() < deadline {
            let listed = try await HTTPClient.request("GET", served.base + "/api/admin/databases", bearer: Self.token).json()
            let databases = listed["databases"] as? [[String: Any]] ?? []
            done = databases.filter { ($0["last_backup"] as? [String: Any])?["ok"] as? Bool == true }.count
            if done == 500 { break }
            try await Task.sleep(for: .seconds(1))
        }
        #expect(done == 500, "\(served.log.suffix(2000))")
        let status = try String(contentsOfFile: "/proc/\(served.process.processIdentifier)/status", encoding: .utf8)
        let peakKiB = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }
            .flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? Int.max
        #expect(peakKiB < 128 * 1024, "peak RSS \(peakKiB) KiB")
        let backups = (FileManager.default.enumerator(atPath: dir.file("store"))?.allObjects as? [String] ?? [])
            .filter { $0.hasSuffix(".sql.gz") }
        #expect(backups.count >= 500)
    }
}
