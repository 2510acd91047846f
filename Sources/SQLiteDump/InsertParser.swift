import Foundation

/// How far parsing an `INSERT INTO` line got.
enum InsertParse: Equatable {
    /// The line parsed through its ';' (`length` bytes); `values` values were written.
    case done(length: Int, values: Int)
    /// The line goes on past the buffered input.
    case incomplete
    /// Not in the writer's exact form: SQLite's own parser takes the line.
    case unsupported
}

/// The fast path for `INSERT INTO "t"(cols) VALUES(v,…);` lines in Backstream's own format:
/// values are decoded straight into a `LoadBatch` (see `LoadValueTag`), skipping SQLite's
/// parser for every row.
enum InsertParser {
    /// More values than SQLite binds in one statement never come from the writer.
    static let maxValues = 250_000

    /// Length of `INSERT INTO "t"(cols) VALUES(` at `p` (the text a cached statement is prepared
    /// from), `.incomplete` or `.unsupported`.
    static func prefix(_ p: UnsafePointer<UInt8>, _ n: Int) -> (length: Int, parse: InsertParse) {
        var i = 12
        // Table name: a double-quoted identifier, as the dumper writes it.
        guard i < n else { return (0, .incomplete) }
        guard p[i] == UInt8(ascii: "\"") else { return (0, .unsupported) }
        i += 1
        while true {
            guard i < n else { return (0, .incomplete) }
            if p[i] == UInt8(ascii: "\"") {
                guard i + 1 < n else { return (0, .incomplete) }
                if p[i + 1] == UInt8(ascii: "\"") { i += 2; continue }
                i += 1
                break
            }
            i += 1
        }
        guard i < n else { return (0, .incomplete) }
        if p[i] == UInt8(ascii: "(") {
            var quoted = false
            while true {
                i += 1
                guard i < n else { return (0, .incomplete) }
                let b = p[i]
                if b == UInt8(ascii: "\"") { quoted.toggle() } else if b == UInt8(ascii: ")") && !quoted { i += 1; break }
            }
        }
        guard n - i >= 8 else { return (0, .incomplete) }
        guard memcmp(p + i, valuesOpen, 8) == 0 else { return (0, .unsupported) }
        return (i + 8, .done(length: i + 8, values: 0))
    }

    /// Parses the values from `start` through the closing `);`, appending each to `out`.
    static func values(_ p: UnsafePointer<UInt8>, _ n: Int, from start: Int, into out: inout ByteBuffer) -> InsertParse {
        var i = start
        var count = 0
        while true {
            guard i < n else { return .incomplete }
            switch InsertValues.parse(p, n, &i, into: &out) {
            case .done: count += 1
            case .incomplete: return .incomplete
            case .unsupported: return .unsupported
            }
            guard i < n else { return .incomplete }
            if p[i] == UInt8(ascii: ",") {
                i += 1
                guard count < maxValues else { return .unsupported }
                continue
            }
            if p[i] == UInt8(ascii: ")") { i += 1; break }
            return .unsupported
        }
        guard i < n else { return .incomplete }
        guard p[i] == UInt8(ascii: ";") else { return .unsupported }
        return .done(length: i + 1, values: count)
    }

    static let insertInto: [UInt8] = Array("INSERT INTO ".utf8)
    static let valuesOpen: [UInt8] = Array(" VALUES(".utf8)
}
