import Foundation

/// Where each table header and key of a fleet file is, by line. TOMLKit keeps no source
/// position for a parsed node, so semantic errors find their line here: the n-th
/// `[[database]]` header and the keys below it. It reads the simple shapes the format
/// documents (headers on their own line, `key = value`); a key it cannot place falls back
/// to its table's header line.
struct FleetFileLines {
    /// A table of the file: the top level (`""`), `[leases]`, or the n-th `[[database]]` (0-based).
    struct Section: Hashable {
        var name: String
        var index: Int?

        static let top = Section(name: "", index: nil)
    }

    private(set) var headers: [Section: Int] = [:]
    private var keys: [Section: [String: Int]] = [:]

    init(_ text: String) {
        var section = Section.top
        var arrayCounts: [String: Int] = [:]
        var inMultilineString: String?
        for (offset, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = offset + 1
            let line = rawLine.drop { $0 == " " || $0 == "\t" }
            if let delimiter = inMultilineString {
                if Self.occurrences(of: delimiter, in: line) % 2 == 1 { inMultilineString = nil }
                continue
            }
            if line.hasPrefix("[[") {
                let name = Self.headerName(line.dropFirst(2), closing: "]]")
                let index = arrayCounts[name, default: 0]
                arrayCounts[name] = index + 1
                section = Section(name: name, index: index)
                headers[section] = number
            } else if line.hasPrefix("[") {
                section = Section(name: Self.headerName(line.dropFirst(), closing: "]"), index: nil)
                headers[section] = number
            } else if let key = Self.key(of: line) {
                if keys[section, default: [:]][key] == nil { keys[section, default: [:]][key] = number }
                for delimiter in ["\"\"\"", "'''"] where Self.occurrences(of: delimiter, in: line) % 2 == 1 {
                    inMultilineString = delimiter
                }
            }
        }
    }

    /// The line of `key` in `section`, else the section's header, else nil (the top level has
    /// none). At the top level a key may also be a table's name: `[leases]`, `[[database]]`.
    func line(of key: String?, in section: Section) -> Int? {
        if let key, let number = keys[section]?[key] { return number }
        if let key, section == .top, let number = headers[Section(name: key, index: nil)] ?? headers[Section(name: key, index: 0)] {
            return number
        }
        // An entry written inline (`database = [{ path = "a.db" }]`) has no header: its array's line.
        return headers[section] ?? (section == .top ? nil : line(of: section.name, in: .top))
    }

    /// `name` of `[name]` or `[[name]]`, quotes and spaces removed (`[ "leases" ]` is `leases`).
    private static func headerName(_ rest: Substring, closing: String) -> String {
        let inside = rest.range(of: closing).map { rest[..<$0.lowerBound] } ?? rest
        return inside.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
    }

    /// The key of a `key = value` line: bare (`A-Za-z0-9_-`) or quoted; nil for anything else
    /// (comments, blank lines, the elements of a multi-line array).
    private static func key(of line: Substring) -> String? {
        var key = ""
        var rest = line[...]
        if let quote = rest.first, quote == "\"" || quote == "'" {
            guard let end = rest.dropFirst().firstIndex(of: quote) else { return nil }
            key = String(rest[rest.index(after: rest.startIndex)..<end])
            rest = rest[rest.index(after: end)...]
        } else {
            let bare = rest.prefix { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }
            guard !bare.isEmpty else { return nil }
            key = String(bare)
            rest = rest.dropFirst(bare.count)
        }
        return rest.drop { $0 == " " || $0 == "\t" }.first == "=" ? key : nil
    }

    private static func occurrences(of delimiter: String, in line: Substring) -> Int {
        line.components(separatedBy: delimiter).count - 1
    }
}
