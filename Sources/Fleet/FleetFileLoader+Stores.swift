import Backup
import ObjectStore

/// The stores of a fleet file: each spec resolved once, one instance per store, and the
/// prefixes in each store kept apart.
extension FleetFileLoader {
    /// The entry's store with the prefix its databases go under (`backups/` when the spec has none).
    mutating func baseDestination(_ entry: FleetTable) throws(FleetConfigurationError) -> BackupDestination {
        let owner = entry.owner(of: "store")
        let resolved = try store(owner, try owner?.string("store"))
        let prefix = resolved.prefix.isEmpty ? BackupDestination.defaultPrefix : resolved.prefix
        return BackupDestination(store: resolved.store, prefix: prefix)
    }

    mutating func leaseStore(top: FleetTable, lines: FleetFileLines) throws(FleetConfigurationError) -> BackupDestination {
        var leases = top
        if let table = try top.subtable("leases") {
            leases = FleetTable(table: table, section: .init(name: "leases", index: nil), lines: lines, file: file)
            try leases.checkKeys(["store", "prefix"])
        }
        let own = leases.section == top.section ? nil : try leases.string("store")
        let resolved = own != nil ? try store(leases, own) : try store(top.owner(of: "store"), try top.string("store"))
        var prefix = own != nil && !resolved.prefix.isEmpty ? resolved.prefix : FleetConfiguration.defaultLeasePrefix
        if leases.section != top.section, let given = try leases.string("prefix") {
            prefix = try normalized(given, leases.error(.invalidValue, "prefix", "the lease prefix must not be empty or start with /"))
        }
        return BackupDestination(store: resolved.store, prefix: prefix)
    }

    /// Resolves a store spec once (nil: `BACKSTREAM_STORE`, else the current folder, as the CLI
    /// does); a relative folder is relative to the file's folder.
    private mutating func store(_ owner: FleetTable?, _ spec: String?) throws(FleetConfigurationError) -> (store: any ObjectStore, prefix: String) {
        let key: String
        if let spec {
            key = spec.contains("://") || spec.isEmpty ? spec : absolute(spec)
        } else {
            key = environment["BACKSTREAM_STORE"].flatMap { $0.isEmpty ? nil : $0 } ?? "."
        }
        if let known = stores[key] { return known }
        do {
            var (store, prefix) = try StoreLocation.parse(key, environment: environment)
            if let shared = storesByName[store.displayName] { store = shared } else { storesByName[store.displayName] = store }
            if !prefix.isEmpty && !prefix.hasSuffix("/") { prefix += "/" }
            stores[key] = (store, prefix)
            return (store, prefix)
        } catch {
            let reason = "store \"\(spec ?? key)\": \(error)"
            throw owner?.error(.invalidValue, "store", reason) ?? FleetConfigurationError(.invalidValue, file: file, line: nil, reason: reason)
        }
    }

    /// Refuses two databases, or a database and the leases, whose prefixes in one store nest:
    /// a prune of one would list (and could delete) the other's objects.
    func checkPrefixes(_ databases: [FleetDatabase], leases: BackupDestination, leaseLine: Int?) throws(FleetConfigurationError) {
        var byStore: [String: [(prefix: String, name: String?)]] = [:]
        for database in databases {
            byStore[database.destination.store.displayName, default: []].append((database.destination.prefix, database.name))
        }
        byStore[leases.store.displayName, default: []].append((leases.prefix, nil))
        for (store, unsorted) in byStore {
            let prefixes = unsorted.sorted { ($0.prefix, $0.name ?? "") < ($1.prefix, $1.name ?? "") }
            for (a, b) in zip(prefixes, prefixes.dropFirst()) where b.prefix.hasPrefix(a.prefix) {
                let describe = { (item: (prefix: String, name: String?)) in item.name.map { "database \"\($0)\" (\(item.prefix))" } ?? "the leases (\(item.prefix))" }
                // The later of the two definitions, or the lease prefix's line.
                let database = [a.name, b.name].compactMap { $0.flatMap { seen[$0]?.line } }.max()
                let line = a.name == nil || b.name == nil ? leaseLine ?? database : database
                throw FleetConfigurationError(.invalidValue, file: file, line: line,
                                              reason: "in \(store), \(describe(a)) and \(describe(b)) overlap: give each database a prefix of its own, outside the lease prefix")
            }
        }
    }
}
