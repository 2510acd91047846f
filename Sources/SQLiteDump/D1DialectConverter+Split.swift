import Foundation
import SQLiteAccess

/// A sqlite-dialect row longer than D1's statement limit, written as `--dialect d1` would: the
/// INSERT with its largest text and BLOB values left empty, then UPDATEs appending them piece
/// by piece to the row just inserted (`last_insert_rowid()`: the import runs in order on one
/// connection, and triggers are created only after the data).
extension D1DialectConverter {
    /// Raw bytes per appended piece, as in the writer's split: literals stay near 80 KB.
    static let pieceBytes = 40_000

    private enum LiteralKind { case text, hexText, blob }

    private struct Value {
        var start: Int
        var end: Int
        var kind: LiteralKind?
        var size: Int { end - start }
    }

    func splitInsert(_ sql: UnsafeRawBufferPointer) throws {
        guard let base = sql.baseAddress else { return }
        let p = base.assumingMemoryBound(to: UInt8.self)
        let n = sql.count
        let refuse = { (why: String) in
            DumpError(.valueTooLarge, "\(self.name): the row at line \(self.line) is \(n) bytes, over D1's \(Self.statementLimit)-byte statement limit, and cannot be split (\(why)); back the database up with --dialect d1")
        }
        guard case .done(let prefixLength, _) = InsertParser.prefix(p, n).parse else { throw refuse("not an INSERT in Backstream's form") }
        let nameEnd = Self.quotedEnd(p, n, from: 12)
        let quotedTable = String(decoding: UnsafeRawBufferPointer(start: p + 12, count: nameEnd - 12), as: UTF8.self)
        let table = String(quotedTable.dropFirst().dropLast()).replacingOccurrences(of: "\"\"", with: "\"")
        guard let schema = try tableSchema(table) else { throw refuse("no CREATE TABLE for \(table) before its rows") }
        guard let rowid = schema.rowidName else { throw refuse("table \(table) has no rowid to append to") }
        var columns = schema.columns
        if p[nameEnd] == UInt8(ascii: "(") {
            columns = Self.columnList(p, from: nameEnd, to: prefixLength - 8)
        }

        var values: [Value] = []
        var i = prefixLength
        while i < n {
            let start = i
            var depth = 0
            while i < n {
                let b = p[i]
                if b == UInt8(ascii: "'") || b == UInt8(ascii: "\"") {
                    i = Self.quotedEnd(p, n, from: i)
                    continue
                }
                if b == UInt8(ascii: "(") { depth += 1 }
                if b == UInt8(ascii: ")") { if depth == 0 { break }; depth -= 1 }
                if b == UInt8(ascii: ","), depth == 0 { break }
                i += 1
            }
            values.append(Value(start: start, end: i, kind: Self.kind(p + start, i - start)))
            guard i < n, p[i] == UInt8(ascii: ",") else { break }
            i += 1
        }
        guard values.count == columns.count else { throw refuse("\(values.count) values for \(columns.count) columns") }

        var total = n
        var deferred: Set<Int> = []
        for (index, value) in values.enumerated().sorted(by: { $0.element.size > $1.element.size }) where total > Self.statementLimit - 1_000 {
            guard value.kind != nil else { break }
            deferred.insert(index)
            total -= value.size - 3
        }
        guard total <= Self.statementLimit - 1_000 else { throw refuse("its other values alone are too long") }

        var insert = Array(UnsafeRawBufferPointer(start: p, count: prefixLength))
        for (index, value) in values.enumerated() {
            if index > 0 { insert.append(UInt8(ascii: ",")) }
            if deferred.contains(index) {
                insert += Array((value.kind == .blob ? "X''" : "''").utf8)
            } else {
                insert += UnsafeRawBufferPointer(start: p + value.start, count: value.size)
            }
        }
        insert += Array(");".utf8)
        try insert.withUnsafeBytes { try write(statement: $0) }

        for index in deferred.sorted() {
            let value = values[index]
            let column = SQLIdentifier.quote(columns[index])
            let head = "UPDATE \(quotedTable) SET \(column)="
            let tail = " WHERE \(rowid)=last_insert_rowid();"
            switch value.kind {
            case .text:
                // Inside the quotes; a '' pair is never cut, nor a UTF-8 sequence.
                try forEachPiece(p, from: value.start + 1, to: value.end - 1, step: { p[$0] == UInt8(ascii: "'") ? 2 : 1 }) { piece in
                    try write(head + "\(column)||'" + piece + "'" + tail)
                }
            case .hexText:
                let hex = Self.hexRange(p, value)
                try forEachPiece(p, from: hex.lowerBound, to: hex.upperBound, step: { _ in 2 }) { piece in
                    try write(head + "\(column)||CAST(X'" + piece + "' AS TEXT)" + tail)
                }
            case .blob:
                let hex = Self.hexRange(p, value)
                try forEachPiece(p, from: hex.lowerBound, to: hex.upperBound, step: { _ in 2 }) { piece in
                    try write(head + "CAST(\(column)||X'" + piece + "' AS BLOB)" + tail)
                }
            case nil:
                continue
            }
        }
    }

    /// Calls `body` with consecutive pieces of `p[from..<to]` of about `pieceBytes` each (twice
    /// that for hex), cut only where `step` allows and never inside a UTF-8 sequence.
    private func forEachPiece(_ p: UnsafePointer<UInt8>, from: Int, to: Int, step: (Int) -> Int,
                              _ body: (String) throws -> Void) throws {
        var start = from
        while start < to {
            var end = start
            while end < to && end - start < Self.pieceBytes { end += step(end) }
            end = min(end, to)
            while end < to && end > start + 1 && p[end] & 0xC0 == 0x80 { end -= 1 }
            try body(String(decoding: UnsafeRawBufferPointer(start: p + start, count: end - start), as: UTF8.self))
            start = end
        }
    }

    private func write(_ statement: String) throws {
        var text = statement
        try text.withUTF8 { try write(statement: UnsafeRawBufferPointer($0)) }
    }

    /// What a value literal holds, when it is one the split can append piece by piece.
    private static func kind(_ p: UnsafePointer<UInt8>, _ n: Int) -> LiteralKind? {
        guard n >= 2 else { return nil }
        if p[0] == UInt8(ascii: "'") { return .text }
        if p[0] | 0x20 == UInt8(ascii: "x"), p[1] == UInt8(ascii: "'") { return .blob }
        if n > 8, memcmp(p, "CAST(X'", 7) == 0 { return .hexText }
        return nil
    }

    /// The hex digits of `X'…'` or `CAST(X'…' AS TEXT)`.
    private static func hexRange(_ p: UnsafePointer<UInt8>, _ value: Value) -> Range<Int> {
        var start = value.start
        while start < value.end, p[start] != UInt8(ascii: "'") { start += 1 }
        var end = start + 1
        while end < value.end, p[end] != UInt8(ascii: "'") { end += 1 }
        return (start + 1)..<end
    }

    /// Index just past the quoted token starting at `from` (a doubled quote stays inside).
    static func quotedEnd(_ p: UnsafePointer<UInt8>, _ n: Int, from: Int) -> Int {
        let quote = p[from]
        var i = from + 1
        while i < n {
            if p[i] == quote {
                if i + 1 < n, p[i + 1] == quote { i += 2; continue }
                return i + 1
            }
            i += 1
        }
        return n
    }

    /// The names of a `("a",b)` column list between `from` (its parenthesis) and `to`.
    private static func columnList(_ p: UnsafePointer<UInt8>, from: Int, to: Int) -> [String] {
        var names: [String] = []
        var i = from + 1
        while i < to {
            while i < to, p[i] == UInt8(ascii: " ") || p[i] == UInt8(ascii: ",") { i += 1 }
            guard i < to, p[i] != UInt8(ascii: ")") else { break }
            if p[i] == UInt8(ascii: "\"") {
                let end = quotedEnd(p, to, from: i)
                let quoted = String(decoding: UnsafeRawBufferPointer(start: p + i + 1, count: max(0, end - i - 2)), as: UTF8.self)
                names.append(quoted.replacingOccurrences(of: "\"\"", with: "\""))
                i = end
            } else {
                let start = i
                while i < to, p[i] != UInt8(ascii: ","), p[i] != UInt8(ascii: ")") { i += 1 }
                names.append(String(decoding: UnsafeRawBufferPointer(start: p + start, count: i - start), as: UTF8.self))
            }
        }
        return names
    }
}
