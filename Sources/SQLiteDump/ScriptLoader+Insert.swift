import CSQLite
import Foundation
import SQLiteAccess

/// One parsed value of an INSERT line; byte ranges point into the pending input or scratch.
enum LoaderValue {
    case null
    case integer(Int64)
    case real(Double)
    case text(offset: Int, count: Int, inScratch: Bool)
    case blob(offset: Int, count: Int)
}

enum InsertParse {
    case done(Int)
    case incomplete
    case unsupported
}

/// The fast path for `INSERT INTO "t"(cols) VALUES(v,…);` lines in Backstream's own format.
extension ScriptLoader {
    func insert(_ p: UnsafePointer<UInt8>, _ n: Int, final: Bool) throws -> InsertParse {
        var i = 12
        // Table name: a double-quoted identifier, as the dumper writes it.
        guard i < n else { return .incomplete }
        guard p[i] == UInt8(ascii: "\"") else { return .unsupported }
        i += 1
        while true {
            guard i < n else { return .incomplete }
            if p[i] == UInt8(ascii: "\"") {
                guard i + 1 < n else { return .incomplete }
                if p[i + 1] == UInt8(ascii: "\"") { i += 2; continue }
                i += 1
                break
            }
            i += 1
        }
        guard i < n else { return .incomplete }
        if p[i] == UInt8(ascii: "(") {
            var quoted = false
            while true {
                i += 1
                guard i < n else { return .incomplete }
                let b = p[i]
                if b == UInt8(ascii: "\"") { quoted.toggle() } else if b == UInt8(ascii: ")") && !quoted { i += 1; break }
            }
        }
        guard n - i >= 8 else { return .incomplete }
        guard memcmp(p + i, Self.valuesOpen, 8) == 0 else { return .unsupported }
        i += 8
        let prefixLength = i

        values.removeAll(keepingCapacity: true)
        scratch.removeAll()
        while true {
            guard i < n else { return .incomplete }
            let parsed = parseValue(p, n, &i)
            switch parsed {
            case .value(let v): values.append(v)
            case .incomplete: return .incomplete
            case .unsupported: return .unsupported
            }
            guard i < n else { return .incomplete }
            if p[i] == UInt8(ascii: ",") { i += 1; continue }
            if p[i] == UInt8(ascii: ")") { i += 1; break }
            return .unsupported
        }
        guard i < n else { return .incomplete }
        guard p[i] == UInt8(ascii: ";") else { return .unsupported }
        i += 1

        let stmt = try preparedInsert(UnsafeRawBufferPointer(start: p, count: prefixLength), count: values.count)
        try bindAndStep(stmt, p)
        rowsInserted += 1
        statements += 1
        return .done(i)
    }

    private enum ValueParse {
        case value(LoaderValue)
        case incomplete
        case unsupported
    }

    private func parseValue(_ p: UnsafePointer<UInt8>, _ n: Int, _ i: inout Int) -> ValueParse {
        let b = p[i]
        switch b {
        case UInt8(ascii: "'"):
            return parseText(p, n, &i)
        case UInt8(ascii: "X"):
            guard n - i >= 2 else { return .incomplete }
            guard p[i + 1] == UInt8(ascii: "'") else { return .unsupported }
            i += 2
            let start = scratch.count
            switch parseHex(p, n, &i) {
            case .value: return .value(.blob(offset: start, count: scratch.count - start))
            case let other: return other
            }
        case UInt8(ascii: "N"):
            guard n - i >= 4 else { return .incomplete }
            guard p[i + 1] == UInt8(ascii: "U"), p[i + 2] == UInt8(ascii: "L"), p[i + 3] == UInt8(ascii: "L") else { return .unsupported }
            i += 4
            return .value(.null)
        case UInt8(ascii: "C"):
            guard n - i >= 7 else { return .incomplete }
            guard memcmp(p + i, Self.castOpen, 7) == 0 else { return .unsupported }
            i += 7
            let start = scratch.count
            switch parseHex(p, n, &i) {
            case .value: break
            case let other: return other
            }
            guard n - i >= 9 else { return .incomplete }
            guard memcmp(p + i, Self.asTextClose, 9) == 0 else { return .unsupported }
            i += 9
            return .value(.text(offset: start, count: scratch.count - start, inScratch: true))
        case UInt8(ascii: "("):
            // (m*2^-600): the dumper's exact form for doubles SQLite's parser would misround.
            i += 1
            guard case .value(.real(let m)) = parseNumber(p, n, &i) else { return i >= n ? .incomplete : .unsupported }
            guard i < n else { return .incomplete }
            guard p[i] == UInt8(ascii: "*") else { return .unsupported }
            i += 1
            guard case .value(.real(let scale)) = parseNumber(p, n, &i) else { return i >= n ? .incomplete : .unsupported }
            guard i < n else { return .incomplete }
            guard p[i] == UInt8(ascii: ")") else { return .unsupported }
            i += 1
            return .value(.real(m * scale))
        default:
            if b == UInt8(ascii: "-") || (b >= 0x30 && b <= 0x39) { return parseNumber(p, n, &i) }
            return .unsupported
        }
    }

    private func parseNumber(_ p: UnsafePointer<UInt8>, _ n: Int, _ i: inout Int) -> ValueParse {
        let start = i
        var isReal = false
        while i < n {
            let c = p[i]
            if c >= 0x30 && c <= 0x39 || c == UInt8(ascii: "-") || c == UInt8(ascii: "+") {
                i += 1
            } else if c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
                isReal = true
                i += 1
            } else {
                break
            }
        }
        guard i < n else { return .incomplete }
        let length = i - start
        guard length > 0, length < 64 else { return .unsupported }
        if !isReal {
            var negative = false
            var j = start
            if p[j] == UInt8(ascii: "-") { negative = true; j += 1 }
            guard j < i else { return .unsupported }
            var magnitude: UInt64 = 0
            while j < i {
                let d = p[j] &- 0x30
                guard d < 10 else { return .unsupported }
                let (m1, o1) = magnitude.multipliedReportingOverflow(by: 10)
                let (m2, o2) = m1.addingReportingOverflow(UInt64(d))
                // Out of 64-bit range: SQLite would read a REAL; leave it to SQLite.
                guard !o1 && !o2 else { return .unsupported }
                magnitude = m2
                j += 1
            }
            if negative {
                guard magnitude <= UInt64(Int64.max) + 1 else { return .unsupported }
                return .value(.integer(magnitude == UInt64(Int64.max) + 1 ? .min : -Int64(magnitude)))
            }
            guard magnitude <= UInt64(Int64.max) else { return .unsupported }
            return .value(.integer(Int64(magnitude)))
        }
        // strtod is correctly rounded, and the dumper writes shortest round-trip digits.
        var buffer: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
        return withUnsafeMutableBytes(of: &buffer) { raw -> ValueParse in
            raw.baseAddress?.copyMemory(from: p + start, byteCount: length)
            raw[length] = 0
            let cString = raw.baseAddress.unsafelyUnwrapped.assumingMemoryBound(to: CChar.self)
            var endPointer: UnsafeMutablePointer<CChar>?
            let value = strtod(cString, &endPointer)
            guard let endPointer, endPointer - cString == length else { return .unsupported }
            return .value(.real(value))
        }
    }

    /// A quoted string; bytes stay in the input unless a doubled quote forces a copy.
    private func parseText(_ p: UnsafePointer<UInt8>, _ n: Int, _ i: inout Int) -> ValueParse {
        let start = i + 1
        var j = start
        var copying = false
        var scratchStart = 0
        var segment = start
        while true {
            guard j < n, let q = memchr(p + j, 0x27, n - j) else { return .incomplete }
            let quote = UnsafeRawPointer(q) - UnsafeRawPointer(p)
            guard quote + 1 < n else { return .incomplete }
            if p[quote + 1] == 0x27 {
                if !copying {
                    copying = true
                    scratchStart = scratch.count
                }
                scratch.append(UnsafeRawBufferPointer(start: p + segment, count: quote + 1 - segment))
                j = quote + 2
                segment = j
                continue
            }
            i = quote + 1
            if copying {
                scratch.append(UnsafeRawBufferPointer(start: p + segment, count: quote - segment))
                return .value(.text(offset: scratchStart, count: scratch.count - scratchStart, inScratch: true))
            }
            return .value(.text(offset: start, count: quote - start, inScratch: false))
        }
    }

    /// Hex digits up to a closing quote, decoded into scratch through a lookup table.
    private func parseHex(_ p: UnsafePointer<UInt8>, _ n: Int, _ i: inout Int) -> ValueParse {
        guard let q = memchr(p + i, 0x27, n - i) else { return .incomplete }
        let end = UnsafeRawPointer(q) - UnsafeRawPointer(p)
        let digits = end - i
        guard digits % 2 == 0 else { return .unsupported }
        let count = digits / 2
        guard let out = scratch.appendUninitialized(count) else { return .unsupported }
        let table = Self.hexTable
        var bad: UInt8 = 0
        var j = i
        for k in 0..<count {
            let hi = table[Int(p[j])], lo = table[Int(p[j + 1])]
            bad |= hi | lo
            out[k] = hi << 4 | (lo & 0x0F)
            j += 2
        }
        // Invalid digits map to 0xF0: one test after the loop instead of one per byte.
        guard bad & 0xF0 == 0 else { return .unsupported }
        i = end + 1
        return .value(.null)
    }

    /// Hex digit → value; anything else → 0xF0.
    nonisolated(unsafe) static let hexTable: UnsafeMutablePointer<UInt8> = {
        let table = UnsafeMutablePointer<UInt8>.allocate(capacity: 256)
        table.initialize(repeating: 0xF0, count: 256)
        for (offset, c) in "0123456789".utf8.enumerated() { table[Int(c)] = UInt8(offset) }
        for (offset, c) in "ABCDEF".utf8.enumerated() { table[Int(c)] = UInt8(10 + offset) }
        for (offset, c) in "abcdef".utf8.enumerated() { table[Int(c)] = UInt8(10 + offset) }
        return table
    }()

    private func preparedInsert(_ prefix: UnsafeRawBufferPointer, count: Int) throws -> Statement {
        if let last = lastStatement, lastPrefix.count == prefix.count,
           lastPrefix.withUnsafeBytes({ $0.elementsEqual(prefix) }),
           Int(last.parameterCount) == count {
            return last
        }
        var key = Array(prefix)
        key.append(UInt8(truncatingIfNeeded: count))
        key.append(UInt8(truncatingIfNeeded: count >> 8))
        let stmt: Statement
        if let cached = cache[key] {
            stmt = cached
        } else {
            if !inTransaction { try begin() }
            let sql = String(decoding: prefix, as: UTF8.self) + Array(repeating: "?", count: count).joined(separator: ",") + ")"
            sandbox.reset()
            do {
                stmt = try connection.prepare(sql)
            } catch {
                if sandbox.denial != nil { throw statementError(SQLITE_AUTH, prefix) }
                throw error
            }
            cache[key] = stmt
        }
        lastPrefix = Array(prefix)
        lastStatement = stmt
        return stmt
    }

    private func bindAndStep(_ stmt: Statement, _ p: UnsafePointer<UInt8>) throws {
        if !inTransaction { try begin() }
        seenStatement = true
        let h = stmt.handle
        let scratchBase = scratch.readPointer
        // A non-null pointer for empty values: a null pointer would bind NULL instead.
        let empty = UnsafeRawPointer(p)
        for (index, value) in values.enumerated() {
            let i = Int32(index + 1)
            switch value {
            case .null: sqlite3_bind_null(h, i)
            case .integer(let v): sqlite3_bind_int64(h, i, v)
            case .real(let v): sqlite3_bind_double(h, i, v)
            case .text(let offset, let count, let inScratch):
                let base = count == 0 ? empty : (inScratch ? scratchBase + offset : UnsafeRawPointer(p + offset))
                sqlite3_bind_text(h, i, base.assumingMemoryBound(to: CChar.self), Int32(count), nil)
            case .blob(let offset, let count):
                let base = count == 0 ? empty : scratchBase + offset
                sqlite3_bind_blob(h, i, base, Int32(count), nil)
            }
        }
        let rc = sqlite3_step(h)
        sqlite3_reset(h)
        guard rc == SQLITE_DONE else {
            let message = String(cString: sqlite3_errmsg(connection.handle))
            throw DumpError(.invalidScript, "row \(rowsInserted + 1) of \(name) (line \(line)) failed to insert: \(message)")
        }
    }

    static let valuesOpen: [UInt8] = Array(" VALUES(".utf8)
    static let castOpen: [UInt8] = Array("CAST(X'".utf8)
    static let asTextClose: [UInt8] = Array(" AS TEXT)".utf8)
}
