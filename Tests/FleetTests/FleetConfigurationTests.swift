import Backup
import Fleet
import Foundation
import ObjectStore
import Testing
import TestSupport

@Suite("FleetConfiguration")
struct FleetConfigurationTests {
    static let recipient = "age1wd5q4dnxy5y9nv6fyeswk2yxtw3sdspcw8qvh0j0zzjdtnaus5gs9u9mna"
    static let environment = ["CLOUDFLARE_API_TOKEN": "test-token"]

    /// A real SQLite database at `path` (one table, so the header is written).
    static func makeDatabase(_ path: String) throws {
        let database = try TestDatabase(path)
        try database.execute("CREATE TABLE t(x); INSERT INTO t VALUES (1);")
    }

    /// A temp folder with `portal.db`, `tenants/{a,b,c}.db`, `more/{x,y}.sqlite` and a
    /// non-SQLite `more/notes.txt`, a `bad name.db` whose name is not a database name, plus the
    /// `store/` folder backups go to.
    static func makeFleetFolder() throws -> TemporaryDirectory {
        let dir = try TemporaryDirectory("fleet-config")
        for folder in ["tenants", "more", "more/sub", "store"] {
            try FileManager.default.createDirectory(atPath: dir.file(folder), withIntermediateDirectories: true)
        }
        for name in ["portal.db", "bad name.db", "tenants/a.db", "tenants/b.db", "tenants/c.db", "more/x.sqlite", "more/y", "more/sub/deep.db"] {
            try makeDatabase(dir.file(name))
        }
        try Data("SQLite format 2 but not really a database".utf8).write(to: URL(fileURLWithPath: dir.file("more/notes.txt")))
        try Data("SQLite".utf8).write(to: URL(fileURLWithPath: dir.file("more/short.db")))
        return dir
    }

    static func parse(_ text: String, in dir: TemporaryDirectory, environment: [String: String] = environment) throws(FleetConfigurationError) -> FleetConfiguration {
        try FleetConfiguration.parse(text, fileName: "backstream.toml", baseDirectory: dir.path, environment: environment)
    }

    @Test("every entry kind, with the defaults at the top applied and overridden per entry")
    func fullFile() throws {
        let dir = try Self.makeFleetFolder()
        defer { dir.remove() }
        let text = """
        store = "store/"
        schedule = "0 3 * * *"
        retention_days = 14
        keep_last = 5
        compression = "zstd"
        level = 9
        recipients = ["\(Self.recipient)"]
        max_concurrent = 4
        lease_seconds = 30
        lease_confirm_ms = 250

        [[database]]
        path = "portal.db"
        schedule = "off"

        [[database]]
        glob = "tenants/*.db"
        compression = "gzip"
        level = 12
        keep_last = 1

        [[database]]
        folder = "\(dir.file("more"))"
        recipients = []
        dialect = "d1"

        [[database]]
        name = "edge"
        d1 = "d1://account/edge-db"
        prefix = "edge-backups"
        retention_days = 0

        [[database]]
        glob = "nothing/*.db"
        """
        let config = try Self.parse(text, in: dir)
        #expect(config.databases.map(\.name) == ["a", "b", "c", "edge", "portal", "x", "y"])
        #expect(config.maxConcurrent == 4)
        #expect(config.leaseSeconds == 30 && config.leaseConfirmMilliseconds == 250)
        #expect(config.leaseStore.prefix == "leases/")
        #expect(config.leaseStore.store.displayName == DirectoryStore(root: dir.file("store")).displayName)
        #expect(config.warnings == ["backstream.toml:34: glob \"nothing/*.db\" matched no file"])

        let byName = Dictionary(uniqueKeysWithValues: config.databases.map { ($0.name, $0) })
        let portal = try #require(byName["portal"])
        #expect(portal.source == dir.file("portal.db"))
        #expect(portal.schedule == nil)
        #expect(portal.destination.prefix == "backups/portal/")
        #expect(portal.retention == RetentionPolicy(retentionDays: 14, keepLast: 5))
        #expect(portal.compression == .zstd && portal.level == 9)
        #expect(portal.recipients.map(\.description) == [Self.recipient])
        #expect(portal.dialect == .sqlite)

        let tenant = try #require(byName["b"])
        #expect(tenant.source == dir.file("tenants/b.db"))
        #expect(tenant.schedule == (try CronSchedule("0 3 * * *")))
        #expect(tenant.compression == .gzip && tenant.level == 12)
        #expect(tenant.retention == RetentionPolicy(retentionDays: 14, keepLast: 1))
        #expect(tenant.destination.prefix == "backups/b/")

        // The folder entry: the SQLite files only (not notes.txt, short.db or sub/deep.db).
        let y = try #require(byName["y"])
        #expect(y.source == dir.file("more/y"))
        #expect(y.recipients.isEmpty && y.dialect == .d1)
        #expect(byName["x"]?.destination.prefix == "backups/x/")
        #expect(byName["notes"] == nil && byName["short"] == nil && byName["deep"] == nil)

        let edge = try #require(byName["edge"])
        #expect(edge.source == "d1://account/edge-db")
        #expect(edge.destination.prefix == "edge-backups/")
        #expect(edge.retention.retentionDays == 0)

        // One store for every database.
        #expect(Set(config.databases.map(\.destination.store.displayName)).count == 1)
    }

    @Test("a file of bare paths gets the built-in defaults and the environment's store")
    func defaults() throws {
        let dir = try Self.makeFleetFolder()
        defer { dir.remove() }
        let environment = ["BACKSTREAM_STORE": dir.file("store")]
        let config = try Self.parse("[[database]]\npath = \"portal.db\"\n", in: dir, environment: environment)
        let portal = try #require(config.databases.first)
        #expect(config.databases.count == 1)
        #expect(portal.name == "portal")
        #expect(portal.schedule == (try CronSchedule(FleetConfiguration.defaultSchedule)))
        #expect(portal.retention == RetentionPolicy())
        #expect(portal.compression == .gzip && portal.level == nil && portal.dialect == .sqlite && portal.recipients.isEmpty)
        #expect(portal.destination.store.displayName == DirectoryStore(root: dir.file("store")).displayName)
        #expect(portal.destination.prefix == "backups/portal/")
        #expect(config.maxConcurrent == nil && config.leaseSeconds == 60 && config.leaseConfirmMilliseconds == 0 && config.warnings.isEmpty)
        #expect(config.leaseStore.prefix == "leases/")
    }

    @Test("[leases] may name its own store and prefix; a store's prefix is the base of every database's")
    func leasesAndStorePrefixes() throws {
        let dir = try Self.makeFleetFolder()
        defer { dir.remove() }
        let text = """
        store = "file://\(dir.file("store"))"
        [leases]
        store = "locks"
        prefix = "claims"
        [[database]]
        path = "portal.db"
        store = "file://\(dir.file("other"))"
        [[database]]
        name = "second"
        path = "tenants/a.db"
        prefix = "custom/second/"
        """
        let config = try Self.parse(text, in: dir)
        #expect(config.leaseStore.store.displayName == DirectoryStore(root: dir.file("locks")).displayName)
        #expect(config.leaseStore.prefix == "claims/")
        let portal = try #require(config.databases.first { $0.name == "portal" })
        #expect(portal.destination.store.displayName == DirectoryStore(root: dir.file("other")).displayName)
        let second = try #require(config.databases.first { $0.name == "second" })
        #expect(second.destination.store.displayName == DirectoryStore(root: dir.file("store")).displayName)
        #expect(second.destination.prefix == "custom/second/")
    }

    @Test("a [leases] store's own prefix is where leases go when [leases] sets none")
    func leaseStorePrefix() throws {
        let dir = try Self.makeFleetFolder()
        defer { dir.remove() }
        let environment = ["AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": "secret"]
        let text = "store = \"s3://data-bucket\"\n[leases]\nstore = \"s3://lease-bucket/locks\"\n" + Self.ok
        let config = try Self.parse(text, in: dir, environment: environment)
        #expect(config.leaseStore.store.displayName == "s3://lease-bucket" && config.leaseStore.prefix == "locks/")
        #expect(config.databases.first?.destination.store.displayName == "s3://data-bucket")
        #expect(config.databases.first?.destination.prefix == "backups/portal/")
    }

    /// A refusal: the file (with `DIR` standing for a folder from `makeFleetFolder`), the line
    /// the error must name (nil: none) and words its reason must contain.
    struct Refusal: CustomTestStringConvertible, Sendable {
        let label: String
        let text: String
        let line: Int?
        let reason: String
        var testDescription: String { label }
    }

    static let ok = "[[database]]\npath = \"portal.db\"\n"

    static let refusals: [Refusal] = [
        Refusal(label: "TOML syntax", text: "keep_last = 3\nstore = \"unterminated\n" + ok, line: 2, reason: "column"),
        Refusal(label: "unknown top-level key", text: "retention_day = 3\n" + ok, line: 1, reason: "unknown key \"retention_day\" in the top level"),
        Refusal(label: "unknown key in a database", text: ok + "schedul = \"off\"\n", line: 3, reason: "unknown key \"schedul\" in [[database]] #1"),
        Refusal(label: "unknown table", text: "[lease]\nprefix = \"x/\"\n" + ok, line: 1, reason: "unknown key \"lease\""),
        Refusal(label: "unknown key in [leases]", text: "[leases]\nprefix = \"l/\"\nttl = 5\n" + ok, line: 3, reason: "unknown key \"ttl\" in [leases]"),
        Refusal(label: "wrong type", text: "retention_days = \"30\"\n" + ok, line: 1, reason: "retention_days must be an integer, not a string"),
        Refusal(label: "wrong type in an array", text: ok + "recipients = [1]\n", line: 3, reason: "recipients must be an array of strings"),
        Refusal(label: "a float level", text: "level = 6.0\n" + ok, line: 1, reason: "level must be an integer"),
        Refusal(label: "bad cron expression", text: ok + ok + "schedule = \"61 * * * *\"\n", line: 5,
                reason: "schedule \"61 * * * *\": minute field: 61 is out of range 0-59"),
        Refusal(label: "a key after a multi-line string", text: ok + "prefix = \"\"\"\nlevel = 99\n\"\"\"\nlevel = 99\n", line: 6,
                reason: "level 99 is out of range for gzip: use 1 (fastest) to 12 (smallest)"),
        Refusal(label: "level out of range", text: "level = 13\n" + ok, line: 1, reason: "level 13 is out of range for gzip"),
        Refusal(label: "a default level out of range for an entry's compression", text: "compression = \"zstd\"\nlevel = 19\n" + ok + "compression = \"gzip\"\n",
                line: 2, reason: "level 19 is out of range for gzip (the default at the top, for [[database]] #1)"),
        Refusal(label: "negative retention", text: ok + "retention_days = -1\n", line: 3, reason: "retention_days must be 0 or more"),
        Refusal(label: "negative keep_last", text: "keep_last = -2\n" + ok, line: 1, reason: "keep_last must be 0 or more"),
        Refusal(label: "unknown compression", text: "compression = \"brotli\"\n" + ok, line: 1, reason: "compression \"brotli\" is not one of gzip, zstd, none"),
        Refusal(label: "unknown dialect", text: ok + "dialect = \"mysql\"\n", line: 3, reason: "dialect \"mysql\" is not one of sqlite, d1"),
        Refusal(label: "invalid name", text: ok + "name = \"bad name\"\n", line: 3, reason: "name \"bad name\" is not a valid database name"),
        Refusal(label: "invalid name from a file", text: "[[database]]\npath = \"bad name.db\"\n", line: 2,
                reason: "the name \"bad name\" taken from DIR/bad name.db is not a valid database name"),
        Refusal(label: "invalid name from a glob match", text: ok + "[[database]]\nglob = \"*.db\"\n", line: 4,
                reason: "the name \"bad name\" taken from DIR/bad name.db is not a valid database name (1 to 100 of A-Z a-z 0-9 . _ -, not starting with a dot); rename the file"),
        Refusal(label: "duplicate names", text: ok + "\n[[database]]\nglob = \"tenants/*.db\"\n[[database]]\nname = \"portal\"\npath = \"tenants/a.db\"\n", line: 7,
                reason: "duplicate database name \"portal\": line 2 (DIR/portal.db) and line 7 (DIR/tenants/a.db)"),
        Refusal(label: "a glob match named like an earlier path", text: "[[database]]\npath = \"more/x.sqlite\"\n[[database]]\nfolder = \"more\"\n", line: 4,
                reason: "duplicate database name \"x\": line 2"),
        Refusal(label: "no source", text: ok + "[[database]]\nname = \"lonely\"\n", line: 3, reason: "[[database]] #2 needs exactly one of path, glob, folder or d1; found none"),
        Refusal(label: "two sources", text: "[[database]]\npath = \"portal.db\"\nglob = \"tenants/*.db\"\n", line: 3, reason: "found path and glob"),
        Refusal(label: "missing path", text: "[[database]]\n\npath = \"gone.db\"\n", line: 3, reason: "path \"gone.db\": no such file (DIR/gone.db)"),
        Refusal(label: "an inline entry", text: "keep_last = 1\ndatabase = [{ path = \"gone.db\" }]\n", line: 2, reason: "path \"gone.db\": no such file"),
        Refusal(label: "path that is a folder", text: "[[database]]\npath = \"more\"\n", line: 2, reason: "is a folder; write folder ="),
        Refusal(label: "missing folder", text: "[[database]]\nfolder = \"gone\"\n", line: 2, reason: "no such folder"),
        Refusal(label: "prefix on a glob", text: "[[database]]\nglob = \"tenants/*.db\"\nprefix = \"t/\"\n", line: 3, reason: "prefix is only for path and d1 entries"),
        Refusal(label: "name on a folder", text: "[[database]]\nname = \"all\"\nfolder = \"more\"\n", line: 2, reason: "name is only for path and d1 entries"),
        Refusal(label: "bad age recipient", text: "recipients = [\n  \"age1notakey\",\n]\n" + ok, line: 1, reason: "is not an age X25519 recipient"),
        Refusal(label: "bad store spec", text: ok + "store = \"ftp://host/x\"\n", line: 3, reason: "store \"ftp://host/x\":"),
        Refusal(label: "d1 without a name", text: "[[database]]\nd1 = \"d1://acct/db\"\n", line: 2, reason: "a d1 entry needs a name"),
        Refusal(label: "bad d1 location", text: "[[database]]\nname = \"e\"\nd1 = \"d1://acct\"\n", line: 3, reason: "d1 \"d1://acct\": D1 location d1://acct names no database"),
        Refusal(label: "lease_seconds out of range", text: "lease_seconds = 4\n" + ok, line: 1, reason: "lease_seconds must be 5 to 3600, not 4"),
        Refusal(label: "lease_confirm_ms out of range", text: "lease_confirm_ms = -1\n" + ok, line: 1, reason: "lease_confirm_ms must be 0 to 5000, not -1"),
        Refusal(label: "max_concurrent zero", text: "max_concurrent = 0\n" + ok, line: 1, reason: "max_concurrent must be at least 1"),
        Refusal(label: "two databases under one prefix", text: ok + "prefix = \"shared\"\n[[database]]\npath = \"tenants/a.db\"\nprefix = \"shared/\"\n", line: 5,
                reason: "database \"a\" (shared/) and database \"portal\" (shared/) overlap"),
        Refusal(label: "a database under the lease prefix", text: "[leases]\nprefix = \"backups/\"\n" + ok, line: 2,
                reason: "the leases (backups/) and database \"portal\" (backups/portal/) overlap"),
        Refusal(label: "an empty fleet", text: "schedule = \"off\"\n", line: nil, reason: "the fleet is empty: it has no [[database]] entry"),
        Refusal(label: "a fleet of empty globs", text: "[[database]]\nglob = \"none/*.db\"\n", line: nil, reason: "its globs and folders found no SQLite file"),
    ]

    @Test("a bad file is refused with the line and the reason", arguments: refusals)
    func refusal(_ refusal: Refusal) throws {
        let dir = try Self.makeFleetFolder()
        defer { dir.remove() }
        let text = refusal.text.replacingOccurrences(of: "DIR", with: dir.path)
        do {
            let config = try Self.parse(text, in: dir)
            Issue.record("accepted: \(config.databases.map(\.name))")
        } catch {
            #expect(error.file == "backstream.toml")
            #expect(error.line == refusal.line, "\(error)")
            let reason = refusal.reason.replacingOccurrences(of: "DIR", with: dir.path)
            #expect(error.reason.contains(reason), "\(error)")
            #expect(error.description == (refusal.line.map { "backstream.toml:\($0): " } ?? "backstream.toml: ") + error.reason)
        }
    }

    @Test("a d1 entry needs CLOUDFLARE_API_TOKEN at load")
    func d1NeedsToken() throws {
        let dir = try Self.makeFleetFolder()
        defer { dir.remove() }
        #expect(throws: FleetConfigurationError.self) {
            try Self.parse("[[database]]\nname = \"e\"\nd1 = \"d1://acct/db\"\n", in: dir, environment: [:])
        }
    }

    @Test("docs/backstream.example.toml parses, its paths pointed at a temp folder")
    func exampleFile() throws {
        let dir = try Self.makeFleetFolder()
        defer { dir.remove() }
        let example = try String(contentsOfFile: "\(Fixtures.packageRoot)/docs/backstream.example.toml", encoding: .utf8)
        let text = example.replacingOccurrences(of: "/srv/backstream/", with: dir.path + "/")
        let environment = Self.environment.merging(["AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": "secret"]) { a, _ in a }
        let config = try FleetConfiguration.parse(text, fileName: "backstream.example.toml", baseDirectory: dir.path, environment: environment)
        #expect(config.databases.map(\.name) == ["a", "b", "c", "edge", "portal", "x", "y"])
        #expect(config.maxConcurrent == 2 && config.leaseSeconds == 60 && config.warnings.isEmpty)
        #expect(config.leaseStore.store.displayName == "s3://example-bucket" && config.leaseStore.prefix == "leases/")
        let byName = Dictionary(uniqueKeysWithValues: config.databases.map { ($0.name, $0) })
        #expect(byName["portal"]?.destination.prefix == "backups/portal/")
        #expect(byName["portal"]?.recipients.count == 1)
        #expect(byName["a"]?.compression == .zstd && byName["a"]?.level == 3)
        #expect(byName["a"]?.schedule == (try CronSchedule("*/15 * * * *")))
        #expect(byName["x"]?.retention.retentionDays == 7 && byName["x"]?.recipients.isEmpty == true)
        #expect(byName["edge"]?.destination.prefix == "edge-backups/" && byName["edge"]?.dialect == .d1)
    }

    @Test("load reads the file, anchors relative paths at its folder and names it in errors")
    func loadFromDisk() throws {
        let dir = try Self.makeFleetFolder()
        defer { dir.remove() }
        let path = dir.file("backstream.toml")
        try Data("store = \"store\"\n[[database]]\npath = \"portal.db\"\n".utf8).write(to: URL(fileURLWithPath: path))
        let config = try FleetConfiguration.load(path: path, environment: [:])
        #expect(config.databases.first?.source == dir.file("portal.db"))
        #expect(config.databases.first?.destination.store.displayName == DirectoryStore(root: dir.file("store")).displayName)

        try Data("[[database]]\npath = \"gone.db\"\n".utf8).write(to: URL(fileURLWithPath: path))
        #expect { try FleetConfiguration.load(path: path, environment: [:]) } throws: { error in
            (error as? FleetConfigurationError)?.description.hasPrefix("\(path):2: path \"gone.db\"") == true
        }
        #expect { try FleetConfiguration.load(path: dir.file("missing.toml"), environment: [:]) } throws: { error in
            (error as? FleetConfigurationError)?.code == .cannotRead
        }
    }

    @Test("a relative glob is anchored at the file's folder, even one named with glob characters")
    func globInOddFolder() throws {
        let dir = try TemporaryDirectory("fleet-glob")
        defer { dir.remove() }
        let base = dir.file("odd [1]*?")
        try FileManager.default.createDirectory(atPath: "\(base)/t", withIntermediateDirectories: true)
        try Self.makeDatabase("\(base)/t/a.db")
        try Self.makeDatabase(dir.file("odd 1.db"))
        let config = try FleetConfiguration.parse("store = \"store\"\n[[database]]\nglob = \"t/*.db\"\n", fileName: "f.toml",
                                                  baseDirectory: base, environment: [:])
        #expect(config.databases.map(\.source) == ["\(base)/t/a.db"])
    }

    @Test("a 500-database glob loads quickly")
    func fiveHundred() throws {
        let dir = try TemporaryDirectory("fleet-500")
        defer { dir.remove() }
        try FileManager.default.createDirectory(atPath: dir.file("tenants"), withIntermediateDirectories: true)
        try Self.makeDatabase(dir.file("template.db"))
        for index in 0..<500 {
            try FileManager.default.copyItem(atPath: dir.file("template.db"), toPath: dir.file(String(format: "tenants/tenant-%03d.db", index)))
        }
        let text = "store = \"store\"\nrecipients = [\"\(Self.recipient)\"]\n[[database]]\nglob = \"tenants/*.db\"\n"
        let clock = ContinuousClock()
        var config: FleetConfiguration?
        let elapsed = try clock.measure { config = try Self.parse(text, in: dir) }
        #expect(config?.databases.count == 500)
        #expect(config?.databases.first?.name == "tenant-000" && config?.databases.last?.name == "tenant-499")
        #expect(elapsed < .seconds(2), "500 databases took \(elapsed)")
        print("FleetConfiguration: 500-database glob parsed in \(elapsed)")
    }
}
