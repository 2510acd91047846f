import Dispatch
import SQLiteAccess

/// The row loop: the hot path of every dump.
extension ScriptWriter {
    mutating func rows(of table: TableSpec) throws {
        let name = SQLIdentifier.quote(table.name)
        let selected = table.selectedColumns
        // Nothing to select: the source is never asked for the rows.
        guard !selected.isEmpty else { return }
        var stmt = try source.rows(of: table)
        let firstValue: Int32 = table.selectsRowid && !table.insertsRowid ? 1 : 0
        let listed = table.insertsRowid || table.omitsColumns || table.kind != .table
        let columnList = listed ? "(" + selected[Int(firstValue)...].joined(separator: ",") + ")" : ""
        let prefix = Array("INSERT INTO \(name)\(columnList) VALUES(".utf8)
        // A row whose rowid is the one SQLite would pick anyway (one past the largest so far) is
        // written without it: the restore gets the same rowid, and the dump is as short as
        // sqlite3's (Chinook's PlaylistTrack was 28% longer with every rowid spelled out).
        var implicit = RowidElision(table)
        let shortPrefix = implicit.map { Array("INSERT INTO \(name)\($0.columnList(selected)) VALUES(".utf8) } ?? prefix
        let count = stmt.columnCount
        let limit = options.dialect.statementLimit
        var sinceCheck = 0
        while try stmt.next() {
            let elided = implicit?.elides(stmt.int64(0)) ?? false
            let prefix = elided ? shortPrefix : prefix
            let firstValue: Int32 = elided ? 1 : firstValue
            if let limit, try splitRowIfNeeded(stmt, table: table, prefix: prefix, firstValue: firstValue, limit: limit) {
                // written as INSERT + UPDATEs
            } else {
                try writer.reserve(prefix.count)
                writer.copyReserved(prefix)
                try value(stmt, firstValue)
                var i = firstValue + 1
                while i < count {
                    try writer.reserve(1)
                    writer.byte(UInt8(ascii: ","))
                    try value(stmt, i)
                    i += 1
                }
                try writer.reserve(3)
                writer.copyReserved(Literals.rowEnd)
            }
            rowsWritten += 1
            sinceCheck += 1
            if sinceCheck == 1024 {
                sinceCheck = 0
                try checkpoint(table.name)
            }
        }
    }

    /// Copies a small internal table (sqlite_sequence, sqlite_stat1) row by row.
    mutating func copyRows(_ table: InternalTable, insertPrefix: String) throws {
        var stmt = try source.rows(of: table)
        let prefix = Array(insertPrefix.utf8)
        while try stmt.next() {
            try writer.write(prefix)
            for i in 0..<stmt.columnCount {
                if i > 0 { try writer.write(",") }
                try value(stmt, i)
            }
            try writer.write(Literals.rowEnd)
        }
    }

    @inline(__always)
    func value(_ stmt: Source.Rows, _ i: Int32) throws {
        switch stmt.type(i) {
        case .integer: try writer.integer(stmt.int64(i))
        case .real: try writer.real(stmt.double(i))
        case .text: try writer.text(stmt.text(i))
        case .blob: try writer.blob(stmt.blob(i))
        case .null:
            try writer.reserve(4)
            writer.copyReserved(Literals.null)
        }
    }

    /// Polls for cancellation and reports progress about twice a second.
    mutating func checkpoint(_ table: String) throws {
        if options.cancellation?.isCancelled == true {
            throw DumpError(.cancelled, "interrupted while dumping table \(table); nothing was written at the destination")
        }
        guard let progress = options.progress else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        guard now &- lastProgressNanos >= 500_000_000 else { return }
        lastProgressNanos = now
        progress(DumpProgress(table: table, tablesDone: tablesDone, tablesTotal: plan.tables.count,
                              rowsDone: rowsWritten, rowsTotal: totalRows, bytes: writer.totalBytes,
                              elapsed: Double(now - startedNanos) / 1e9))
    }
}
