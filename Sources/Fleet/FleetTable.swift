import TOMLKit

/// One table of a fleet file (the top level, `[leases]` or one `[[database]]`) with typed
/// reads that refuse a wrong type at the key's line, and a parent to inherit defaults from.
final class FleetTable {
    let table: TOMLTable
    let section: FleetFileLines.Section
    let lines: FleetFileLines
    let file: String
    /// Where inheritable keys not set here are looked up (the top level for a database).
    let parent: FleetTable?

    init(table: TOMLTable, section: FleetFileLines.Section, lines: FleetFileLines, file: String, parent: FleetTable? = nil) {
        self.table = table
        self.section = section
        self.lines = lines
        self.file = file
        self.parent = parent
    }

    /// How the table is named in messages.
    var label: String {
        switch (section.name, section.index) {
        case ("", _): "the top level"
        case (let name, let index?): "[[\(name)]] #\(index + 1)"
        case (let name, nil): "[\(name)]"
        }
    }

    func line(of key: String? = nil) -> Int? { lines.line(of: key, in: section) }

    func error(_ code: FleetConfigurationError.Code, _ key: String?, _ reason: String) -> FleetConfigurationError {
        FleetConfigurationError(code, file: file, line: line(of: key), reason: reason)
    }

    func has(_ key: String) -> Bool { table[key] != nil }

    /// Refuses every key not in `allowed`, naming the first one in file order.
    func checkKeys(_ allowed: [String]) throws(FleetConfigurationError) {
        let unknown = table.keys.filter { !allowed.contains($0) }
        guard !unknown.isEmpty else { return }
        let first = unknown.min { (line(of: $0) ?? .max) < (line(of: $1) ?? .max) } ?? unknown[0]
        throw error(.unknownKey, first, "unknown key \"\(first)\" in \(label); the keys here are \(allowed.joined(separator: ", "))")
    }

    /// The table holding `key`: this one, else the parent's (for defaults), else nil.
    func owner(of key: String) -> FleetTable? {
        has(key) ? self : parent?.owner(of: key)
    }

    func string(_ key: String) throws(FleetConfigurationError) -> String? {
        guard let value = table[key] else { return nil }
        guard let text = value.string else { throw wrongType(key, value, "a string") }
        return text
    }

    func int(_ key: String) throws(FleetConfigurationError) -> Int? {
        guard let value = table[key] else { return nil }
        guard let number = value.int else { throw wrongType(key, value, "an integer") }
        return number
    }

    func strings(_ key: String) throws(FleetConfigurationError) -> [String]? {
        try elements(key, "an array of strings") { $0.string }
    }

    /// The sub-tables of an array of tables such as `[[database]]`.
    func tables(_ key: String) throws(FleetConfigurationError) -> [TOMLTable] {
        try elements(key, "[[\(key)]] tables") { $0.table } ?? []
    }

    /// An array's elements, each converted; a non-array or an element `convert` refuses is a wrong type.
    private func elements<Element>(_ key: String, _ expected: String,
                                   _ convert: (any TOMLValueConvertible) -> Element?) throws(FleetConfigurationError) -> [Element]? {
        guard let value = table[key] else { return nil }
        guard let array = value.array else { throw wrongType(key, value, expected) }
        var result: [Element] = []
        for element in array {
            guard let converted = convert(element) else { throw wrongType(key, element, expected) }
            result.append(converted)
        }
        return result
    }

    func subtable(_ key: String) throws(FleetConfigurationError) -> TOMLTable? {
        guard let value = table[key] else { return nil }
        guard let entry = value.table else { throw wrongType(key, value, "a [\(key)] table") }
        return entry
    }

    private func wrongType(_ key: String, _ value: any TOMLValueConvertible, _ expected: String) -> FleetConfigurationError {
        error(.wrongType, key, "\(key) must be \(expected), not \(Self.article(value.type)) \(value.type)")
    }

    private static func article(_ type: TOMLType) -> String {
        type == .int || type == .array ? "an" : "a"
    }
}
