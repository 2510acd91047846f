import Backup
import Compression
import D1Source
import Encryption
import Foundation
import ObjectStore
import SQLiteDump
import TOMLKit

/// Turns a fleet file's text into a `FleetConfiguration`, one table at a time, remembering
/// what it resolved (stores, schedules, recipients) so that 500 databases of one glob share it.
struct FleetFileLoader {
    let file: String
    let baseDirectory: String
    let environment: [String: String]

    static let inheritedKeys = ["store", "schedule", "retention_days", "keep_last", "compression", "level", "dialect", "recipients"]
    static let topKeys = inheritedKeys + ["max_concurrent", "lease_seconds", "lease_confirm_ms", "leases", "database"]
    static let databaseKeys = ["name", "path", "glob", "folder", "d1", "prefix"] + inheritedKeys
    static let sourceKeys = ["path", "glob", "folder", "d1"]

    /// A store spec resolved: the shared store and the spec's own prefix ("" when it has none).
    var stores: [String: (store: any ObjectStore, prefix: String)] = [:]
    /// One instance per store, whatever spec named it (`s3://b/x/` and `s3://b/y/` share one).
    var storesByName: [String: any ObjectStore] = [:]
    private var schedules: [String: CronSchedule] = [:]
    private var recipients: [String: AgeRecipient] = [:]
    var warnings: [String] = []
    /// Name → where it was defined, for the duplicate message.
    var seen: [String: (line: Int?, origin: String)] = [:]

    init(file: String, baseDirectory: String, environment: [String: String]) {
        self.file = file
        self.baseDirectory = baseDirectory
        self.environment = environment
    }

    mutating func load(_ text: String) throws(FleetConfigurationError) -> FleetConfiguration {
        let root: TOMLTable
        do {
            root = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw FleetConfigurationError(.syntax, file: file, line: error.source.begin.line,
                                          reason: "\(error.description) (column \(error.source.begin.column))")
        } catch {
            throw FleetConfigurationError(.syntax, file: file, line: nil, reason: "\(error)")
        }
        let lines = FleetFileLines(text)
        let top = FleetTable(table: root, section: .top, lines: lines, file: file)
        try top.checkKeys(Self.topKeys)

        let maxConcurrent = try top.int("max_concurrent")
        if let maxConcurrent, maxConcurrent < 1 {
            throw top.error(.invalidValue, "max_concurrent", "max_concurrent must be at least 1, not \(maxConcurrent)")
        }
        let leaseSeconds = try top.int("lease_seconds") ?? FleetConfiguration.defaultLeaseSeconds
        guard FleetConfiguration.leaseSecondsRange.contains(leaseSeconds) else {
            let range = FleetConfiguration.leaseSecondsRange
            throw top.error(.invalidValue, "lease_seconds", "lease_seconds must be \(range.lowerBound) to \(range.upperBound), not \(leaseSeconds)")
        }

        let leaseConfirm = try top.int("lease_confirm_ms") ?? 0
        guard (0...5000).contains(leaseConfirm) else {
            throw top.error(.invalidValue, "lease_confirm_ms", "lease_confirm_ms must be 0 to 5000, not \(leaseConfirm)")
        }

        var databases: [FleetDatabase] = []
        let entries = try top.tables("database")
        for (index, table) in entries.enumerated() {
            let entry = FleetTable(table: table, section: .init(name: "database", index: index), lines: lines, file: file, parent: top)
            databases += try self.databases(of: entry)
        }
        let leaseStore = try self.leaseStore(top: top, lines: lines)

        guard !databases.isEmpty else {
            let why = entries.isEmpty ? "it has no [[database]] entry" : "its globs and folders found no SQLite file"
            throw FleetConfigurationError(.emptyFleet, file: file, line: nil, reason: "the fleet is empty: \(why)")
        }
        databases.sort { $0.name < $1.name }
        try checkPrefixes(databases, leases: leaseStore, leaseLine: top.lines.line(of: "prefix", in: .init(name: "leases", index: nil)))
        return FleetConfiguration(databases: databases, maxConcurrent: maxConcurrent, leaseStore: leaseStore,
                                  leaseSeconds: leaseSeconds, leaseConfirmMilliseconds: leaseConfirm, warnings: warnings)
    }

    // MARK: Databases

    /// The databases of one `[[database]]` entry: one for path and d1, one per file for glob and folder.
    private mutating func databases(of entry: FleetTable) throws(FleetConfigurationError) -> [FleetDatabase] {
        try entry.checkKeys(Self.databaseKeys)
        let kinds = Self.sourceKeys.filter(entry.has)
        guard kinds.count == 1, let kind = kinds.first else {
            let found = kinds.isEmpty ? "none" : kinds.joined(separator: " and ")
            throw entry.error(.invalidValue, kinds.dropFirst().first, "\(entry.label) needs exactly one of path, glob, folder or d1; found \(found)")
        }
        let template = try settings(of: entry)
        let spec = try entry.string(kind) ?? ""
        let explicitName = try entry.string("name")
        let explicitPrefix = try entry.string("prefix")
        if kind == "glob" || kind == "folder" {
            for key in ["name", "prefix"] where entry.has(key) {
                throw entry.error(.invalidValue, key, "\(key) is only for path and d1 entries: each database a \(kind) finds is named after its file and backed up under <store prefix><name>/")
            }
        }

        let found = try sources(of: entry, kind: kind, spec: spec, explicitName: explicitName)
        let prefix = try explicitPrefix.map { (given) throws(FleetConfigurationError) in
            try normalized(given, entry.error(.invalidValue, "prefix", "prefix must not be empty or start with /"))
        }
        var result: [FleetDatabase] = []
        result.reserveCapacity(found.count)
        for (name, source, derived) in found {
            try claim(name, source: source, derived: derived, entry: entry, kind: kind)
            var database = template
            database.name = name
            database.source = source
            database.destination = BackupDestination(store: template.destination.store,
                                                     prefix: prefix ?? template.destination.prefix + name + "/")
            result.append(database)
        }
        return result
    }

    /// What the entry's one source key stands for: a name (`derived` when taken from the file)
    /// and a source per database.
    private mutating func sources(of entry: FleetTable, kind: String, spec: String,
                                  explicitName: String?) throws(FleetConfigurationError) -> [(name: String, source: String, derived: Bool)] {
        var found: [(name: String, source: String, derived: Bool)] = []
        switch kind {
        case "path":
            let path = absolute(spec)
            if !FileManager.default.fileExists(atPath: path) {
                throw entry.error(.notFound, kind, "path \"\(spec)\": no such file (\(path))")
            }
            if DatabaseDiscovery.isDirectory(path) {
                throw entry.error(.invalidValue, kind, "path \"\(spec)\" is a folder; write folder = \"\(spec)\" to back up the SQLite files in it")
            }
            found = [(explicitName ?? DatabaseDiscovery.name(ofFile: path), path, explicitName == nil)]
        case "glob":
            let pattern = spec.hasPrefix("/") ? spec : DatabaseDiscovery.escapedForGlob(baseDirectory) + "/" + spec
            found = DatabaseDiscovery.glob(pattern).map { (DatabaseDiscovery.name(ofFile: $0), $0, true) }
            if found.isEmpty { warn(entry, kind, "glob \"\(spec)\" matched no file") }
        case "folder":
            let folder = absolute(spec)
            guard DatabaseDiscovery.isDirectory(folder) else {
                throw entry.error(.notFound, kind, "folder \"\(spec)\": no such folder (\(folder))")
            }
            do {
                found = try DatabaseDiscovery.sqliteFiles(in: folder).map { (DatabaseDiscovery.name(ofFile: $0), $0, true) }
            } catch {
                throw entry.error(.cannotRead, kind, "folder \"\(spec)\": \(error.localizedDescription)")
            }
            if found.isEmpty { warn(entry, kind, "folder \"\(spec)\" holds no SQLite file") }
        default:
            guard let explicitName else {
                throw entry.error(.invalidValue, kind, "a d1 entry needs a name = \"…\" (1 to 100 of A-Z a-z 0-9 . _ -)")
            }
            do {
                _ = try D1Location(spec, environment: environment)
            } catch {
                throw entry.error(.invalidValue, kind, "d1 \"\(spec)\": \(error)")
            }
            found = [(explicitName, spec, false)]
        }
        return found
    }

    /// Records `name`, refusing an invalid one and a second use.
    private mutating func claim(_ name: String, source: String, derived: Bool, entry: FleetTable, kind: String) throws(FleetConfigurationError) {
        let key = derived ? kind : "name"
        guard FleetDatabase.isValidName(name) else {
            let rule = "1 to 100 of A-Z a-z 0-9 . _ -, not starting with a dot"
            let reason = derived
                ? "the name \"\(name)\" taken from \(source) is not a valid database name (\(rule)); rename the file\(kind == "path" ? " or set name = \"…\"" : "")"
                : "name \"\(name)\" is not a valid database name (\(rule))"
            throw entry.error(.invalidValue, key, reason)
        }
        let line = entry.line(of: key)
        if let first = seen[name] {
            let firstLine = first.line.map { "line \($0)" } ?? "an earlier entry"
            let thisLine = line.map { "line \($0)" } ?? "this entry"
            throw FleetConfigurationError(.duplicateName, file: file, line: line,
                                          reason: "duplicate database name \"\(name)\": \(firstLine) (\(first.origin)) and \(thisLine) (\(source))")
        }
        seen[name] = (line, source)
    }

    /// The settings of `entry` with the top level's defaults applied; name, source and
    /// destination prefix are filled in per database.
    private mutating func settings(of entry: FleetTable) throws(FleetConfigurationError) -> FleetDatabase {
        let destination = try baseDestination(entry)
        let cron = try schedule(entry)
        var settings = FleetDatabase(name: "", source: "", destination: destination, schedule: cron)
        if let owner = entry.owner(of: "retention_days"), let days = try owner.int("retention_days") {
            guard days >= 0 else { throw owner.error(.invalidValue, "retention_days", "retention_days must be 0 or more, not \(days)") }
            settings.retention.retentionDays = days
        }
        if let owner = entry.owner(of: "keep_last"), let count = try owner.int("keep_last") {
            guard count >= 0 else { throw owner.error(.invalidValue, "keep_last", "keep_last must be 0 or more, not \(count)") }
            settings.retention.keepLast = count
        }
        if let owner = entry.owner(of: "dialect"), let text = try owner.string("dialect") {
            guard let dialect = Dialect(rawValue: text) else {
                throw owner.error(.invalidValue, "dialect", "dialect \"\(text)\" is not one of \(Dialect.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            settings.dialect = dialect
        }
        if let owner = entry.owner(of: "compression"), let text = try owner.string("compression") {
            guard let method = CompressionMethod(rawValue: text) else {
                throw owner.error(.invalidValue, "compression", "compression \"\(text)\" is not one of \(CompressionMethod.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            settings.compression = method
        }
        if let owner = entry.owner(of: "level"), let level = try owner.int("level"), settings.compression != .none {
            let range = settings.compression.levels
            guard range.contains(level) else {
                let whose = owner.section == entry.section ? "" : " (the default at the top, for \(entry.label))"
                throw owner.error(.invalidValue, "level", "level \(level) is out of range for \(settings.compression.rawValue)\(whose): use \(range.lowerBound) (fastest) to \(range.upperBound) (smallest)")
            }
            settings.level = level
        }
        if let owner = entry.owner(of: "recipients"), let texts = try owner.strings("recipients") {
            settings.recipients = try texts.map { (text) throws(FleetConfigurationError) in try recipient(text, owner) }
        }
        return settings
    }

    private mutating func schedule(_ entry: FleetTable) throws(FleetConfigurationError) -> CronSchedule? {
        let owner = entry.owner(of: "schedule")
        let text = try owner?.string("schedule") ?? FleetConfiguration.defaultSchedule
        if text.lowercased() == "off" { return nil }
        if let known = schedules[text] { return known }
        do throws(CronError) {
            let schedule = try CronSchedule(text)
            schedules[text] = schedule
            return schedule
        } catch {
            let field = error.fieldName.map { "\($0) field: " } ?? ""
            throw (owner ?? entry).error(.invalidValue, "schedule", "schedule \"\(text)\": \(field)\(error.reason)")
        }
    }

    private mutating func recipient(_ text: String, _ owner: FleetTable) throws(FleetConfigurationError) -> AgeRecipient {
        if let known = recipients[text] { return known }
        do {
            let recipient = try AgeRecipient(parsing: text)
            recipients[text] = recipient
            return recipient
        } catch {
            throw owner.error(.invalidValue, "recipients", "recipients: \(error)")
        }
    }

    // MARK: Helpers

    func absolute(_ path: String) -> String {
        let joined = path.hasPrefix("/") ? path : (baseDirectory as NSString).appendingPathComponent(path)
        return (joined as NSString).standardizingPath
    }

    /// A prefix as keys use it: ending in `/`, not empty, not starting with `/`.
    func normalized(_ prefix: String, _ failure: @autoclosure () -> FleetConfigurationError) throws(FleetConfigurationError) -> String {
        guard !prefix.isEmpty, !prefix.hasPrefix("/") else { throw failure() }
        return prefix.hasSuffix("/") ? prefix : prefix + "/"
    }

    private mutating func warn(_ entry: FleetTable, _ key: String, _ message: String) {
        warnings.append(entry.line(of: key).map { "\(file):\($0): \(message)" } ?? "\(file): \(message)")
    }
}
