import ChunkIO
import Foundation
import Support
import SQLiteAccess

/// Lays out the script: header, pragmas, schema and data in restore order, trailer. It reads
/// the database only through `source`.
struct ScriptWriter<Source: RowSource> {
    let writer: SQLWriter
    let source: Source
    let plan: SchemaPlan
    let options: DumpOptions
    let startedNanos: UInt64
    var rowsWritten: Int64 = 0
    var tablesDone = 0
    var lastProgressNanos: UInt64 = 0

    init(writer: SQLWriter, source: Source, plan: SchemaPlan, options: DumpOptions, startedNanos: UInt64) {
        self.writer = writer
        self.source = source
        self.plan = plan
        self.options = options
        self.startedNanos = startedNanos
    }

    var totalRows: Int64 { plan.tables.reduce(0) { $0 + $1.rowCount } }

    mutating func header(sourceName: String, timestamp: Date) throws {
        let dataTables = plan.tables.filter(\.hasData)
        var lines = [
            DumpFormat.headerFirstLine,
            "-- format: \(DumpFormat.formatVersion)",
            "-- tool: backstream \(DumpFormat.toolVersion)",
            "-- source: \(SQLIdentifier.json(sourceName))",
            "-- created: \(Timestamp.iso8601(timestamp))",
            "-- sqlite: \(source.engineVersion)",
            "-- dialect: \(options.dialect.rawValue)",
            "-- tables: \(plan.tables.count)",
            "-- rows: \(totalRows)",
        ]
        for table in dataTables {
            lines.append("-- table: \(table.rowCount) \(SQLIdentifier.json(table.name))")
        }
        lines += source.headerNotes.map { "-- \($0.key): \($0.value)" }
        switch options.dialect {
        case .sqlite:
            lines.append("PRAGMA foreign_keys=OFF;")
            if plan.encoding != "UTF-8" { lines.append("PRAGMA encoding=\(SQLIdentifier.literal(plan.encoding));") }
            // Not persistent: they only speed up this import.
            lines.append("PRAGMA synchronous=OFF;")
            lines.append("PRAGMA cache_size=-65536;")
            lines.append("BEGIN TRANSACTION;")
            if plan.userVersion != 0 { lines.append("PRAGMA user_version=\(plan.userVersion);") }
            if plan.applicationID != 0 { lines.append("PRAGMA application_id=\(plan.applicationID);") }
        case .d1:
            lines.append("PRAGMA defer_foreign_keys=TRUE;")
        }
        try writer.write(lines.joined(separator: "\n") + "\n")
    }

    mutating func body() throws {
        // Every table exists before any row arrives: with foreign keys enforced (D1), a child row
        // needs its parent table even when the parent rows come later (cycles).
        for table in plan.tables { try writer.write(Self.statement(table.sql)) }
        for table in plan.tables {
            if table.hasData { try rows(of: table) }
            tablesDone += 1
        }
        if plan.hasSequence {
            try writer.write("DELETE FROM sqlite_sequence;\n")
            try copyRows(.sequence, insertPrefix: "INSERT INTO sqlite_sequence(name,seq) VALUES(")
        }
        for sql in plan.indexes { try writer.write(Self.statement(sql)) }
        for table in plan.tables where table.kind == .virtualExternalContent {
            let name = SQLIdentifier.quote(table.name)
            try writer.write("INSERT INTO \(name)(\(name)) VALUES('rebuild');\n")
        }
        for sql in plan.views { try writer.write(Self.statement(sql)) }
        for sql in plan.triggers { try writer.write(Self.statement(sql)) }
        if plan.hasStat1 {
            // ANALYZE of the schema table creates sqlite_stat1 without touching user tables.
            try writer.write("ANALYZE sqlite_schema;\nDELETE FROM sqlite_stat1;\n")
            try copyRows(.statistics, insertPrefix: "INSERT INTO sqlite_stat1(tbl,idx,stat) VALUES(")
        }
    }

    mutating func trailer(checks: SourceChecks?) throws {
        var lines: [String] = []
        if options.dialect == .sqlite { lines.append("COMMIT;") }
        if let checks { lines.append(checks.line) }
        lines.append("\(DumpFormat.trailerPrefix) \(plan.tables.count) tables, \(rowsWritten) rows.")
        try writer.write(lines.joined(separator: "\n") + "\n")
    }

    /// A schema statement from sqlite_schema, terminated.
    static func statement(_ sql: String) -> String { sql + ";\n" }
}
