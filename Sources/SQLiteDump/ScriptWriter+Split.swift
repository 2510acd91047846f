import SQLiteAccess

/// D1 caps one statement at 100,000 bytes. A row that would be longer is written as an INSERT
/// with its largest values left empty, then UPDATEs that append those values piece by piece.
extension ScriptWriter {
    /// Raw bytes per appended piece: at most ~80 KB of literal, leaving room for names.
    static var pieceBytes: Int { 40_000 }

    /// Writes the row the long way and returns true when it would not fit in one statement.
    mutating func splitRowIfNeeded(_ stmt: Source.Rows, table: TableSpec, prefix: [UInt8], firstValue: Int32, limit: Int) throws -> Bool {
        let count = stmt.columnCount
        var bound = prefix.count + 3 + Int(count)
        for i in firstValue..<count { bound += Self.upperBound(stmt, i) }
        if bound <= limit { return false }

        var sizes: [(column: Int32, size: Int)] = []
        var total = prefix.count + 3 + Int(count)
        for i in firstValue..<count {
            let size = Self.exactSize(stmt, i)
            sizes.append((i, size))
            total += size
        }
        if total <= limit { return false }

        let target = limit - 1_000
        var deferred: Set<Int32> = []
        for entry in sizes.sorted(by: { $0.size > $1.size }) where total > target {
            let type = stmt.type(entry.column)
            guard type == .text || type == .blob else { break }
            deferred.insert(entry.column)
            total -= entry.size - 3
        }
        guard total <= target else {
            throw DumpError(.valueTooLarge, "a row of table \(table.name) cannot be written in statements under \(limit) bytes for D1; use --dialect sqlite")
        }
        let location = try rowLocation(stmt, table: table, firstValue: firstValue)

        try writer.write(prefix)
        for i in firstValue..<count {
            if i > firstValue { try writer.write(",") }
            if deferred.contains(i) {
                try writer.write(stmt.type(i) == .blob ? "X''" : "''")
            } else {
                try value(stmt, i)
            }
        }
        try writer.write(Literals.rowEnd)

        let name = SQLIdentifier.quote(table.name)
        for column in deferred.sorted() {
            let columnIndex = Int(column - (table.selectsRowid ? 1 : 0))
            let quoted = SQLIdentifier.quote(table.columns[columnIndex])
            let isBlob = stmt.type(column) == .blob
            let bytes = isBlob ? stmt.blob(column) : stmt.text(column)
            guard let base = bytes.baseAddress else { continue }
            let plain = !isBlob && TextScan(base, bytes.count).isPlain
            var offset = 0
            while offset < bytes.count {
                var end = min(bytes.count, offset + Self.pieceBytes)
                if plain {
                    // Cut on a character boundary so each piece is valid UTF-8 on its own.
                    let p = base.assumingMemoryBound(to: UInt8.self)
                    while end < bytes.count && end > offset && p[end] & 0xC0 == 0x80 { end -= 1 }
                }
                let piece = UnsafeRawBufferPointer(start: base + offset, count: end - offset)
                try writer.write("UPDATE \(name) SET \(quoted)=")
                if isBlob {
                    try writer.write("CAST(\(quoted)||")
                    try writer.blob(piece)
                    try writer.write(" AS BLOB)")
                } else {
                    try writer.write("\(quoted)||")
                    if plain { try writer.text(piece) } else { try writer.hexText(piece) }
                }
                try writer.write(" WHERE \(location);\n")
                offset = end
            }
        }
        return true
    }

    /// The WHERE condition that finds the row just inserted.
    private func rowLocation(_ stmt: Source.Rows, table: TableSpec, firstValue: Int32) throws -> String {
        if table.selectsRowid, let rowid = table.rowidName {
            return "\(rowid)=\(stmt.int64(0))"
        }
        guard table.withoutRowid, !table.primaryKey.isEmpty else {
            throw DumpError(.valueTooLarge, "table \(table.name) has a row over D1's statement limit and no rowid to append to it; use --dialect sqlite")
        }
        var terms: [String] = []
        for key in table.primaryKey {
            guard let index = table.columns.firstIndex(of: key) else { continue }
            let column = Int32(index) + (table.selectsRowid ? 1 : 0)
            let literal: String
            switch stmt.type(column) {
            case .integer: literal = String(stmt.int64(column))
            case .real: literal = String(stmt.double(column))
            case .text:
                let text = stmt.text(column)
                guard text.count < 2_000 else {
                    throw DumpError(.valueTooLarge, "table \(table.name) has a primary key value over 2,000 bytes in a row over D1's statement limit; use --dialect sqlite")
                }
                literal = "CAST(X'" + text.map { String(format: "%02X", $0) }.joined() + "' AS TEXT)"
            case .blob:
                let blob = stmt.blob(column)
                guard blob.count < 2_000 else {
                    throw DumpError(.valueTooLarge, "table \(table.name) has a primary key value over 2,000 bytes in a row over D1's statement limit; use --dialect sqlite")
                }
                literal = "X'" + blob.map { String(format: "%02X", $0) }.joined() + "'"
            case .null: literal = "NULL"
            }
            terms.append("\(SQLIdentifier.quote(key))=\(literal)")
        }
        return terms.joined(separator: " AND ")
    }

    /// A cheap bound on a value's literal length (no scan of the text).
    static func upperBound(_ stmt: Source.Rows, _ i: Int32) -> Int {
        switch stmt.type(i) {
        case .integer: 20
        case .real: 64
        case .text, .blob: stmt.byteCount(i) * 2 + 20
        case .null: 4
        }
    }

    /// The exact literal length the writer will produce (within a few bytes for numbers).
    static func exactSize(_ stmt: Source.Rows, _ i: Int32) -> Int {
        switch stmt.type(i) {
        case .text:
            let text = stmt.text(i)
            guard let base = text.baseAddress else { return 2 }
            let scan = TextScan(base, text.count)
            return scan.isPlain ? text.count + scan.quotes + 2 : text.count * 2 + 17
        case .blob: return stmt.byteCount(i) * 2 + 3
        default: return upperBound(stmt, i)
        }
    }
}
