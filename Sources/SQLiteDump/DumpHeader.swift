import Foundation

/// What a dump's header comments say about the snapshot it holds.
package struct DumpHeader: Sendable, Equatable {
    package var format: Int?
    package var tool: String?
    package var dialect: String?
    package var tables: Int?
    package var rows: Int64?
    /// Row counts per table, in header order.
    package var tableRows: [(name: String, rows: Int64)] = []

    package static func == (a: DumpHeader, b: DumpHeader) -> Bool {
        a.format == b.format && a.tool == b.tool && a.dialect == b.dialect && a.tables == b.tables && a.rows == b.rows
            && a.tableRows.map(\.name) == b.tableRows.map(\.name) && a.tableRows.map(\.rows) == b.tableRows.map(\.rows)
    }

    /// Parses `-- key: value` lines; unknown lines are ignored.
    package init(lines: [String]) {
        for line in lines {
            guard line.hasPrefix("-- "), let colon = line.firstIndex(of: ":") else { continue }
            let key = line[line.index(line.startIndex, offsetBy: 3)..<colon]
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            switch key {
            case "format": format = Int(value)
            case "tool": tool = value
            case "dialect": dialect = value
            case "tables": tables = Int(value)
            case "rows": rows = Int64(value)
            case "table":
                guard let space = value.firstIndex(of: " "), let count = Int64(value[..<space]) else { continue }
                let json = Data(value[value.index(after: space)...].utf8)
                if let name = try? JSONDecoder().decode(String.self, from: json) {
                    tableRows.append((name, count))
                }
            default: continue
            }
        }
    }
}
