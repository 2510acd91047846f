import ChunkIO
import Foundation
@testable import SQLiteDump
import Support
import Testing
import TestSupport

/// A source that is not a SQLite file (rows held in memory, as a remote D1 source would yield
/// them): the writer must turn it into a script the real sqlite3 restores, unchanged.
private final class MemorySource: RowSource {
    /// Owns a copy of every text and blob cell, so the bytes it hands out stay valid.
    final class Cursor: RowCursor {
        let rows: [[StoredValue]]
        private var index = -1
        private var cells: [[UnsafeMutableRawBufferPointer]] = []
        init(rows: [[StoredValue]]) {
            self.rows = rows
            cells = rows.map { row in
                row.map { value in
                    let bytes: [UInt8]
                    switch value {
                    case .text(let b), .blob(let b): bytes = b
                    default: bytes = []
                    }
                    let cell = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, bytes.count), alignment: 1)
                    cell.copyBytes(from: bytes)
                    return UnsafeMutableRawBufferPointer(rebasing: cell[0..<bytes.count])
                }
            }
        }
        deinit { for row in cells { for cell in row { cell.deallocate() } } }
        func next() throws -> Bool {
            index += 1
            return index < rows.count
        }
        var columnCount: Int32 { Int32(rows.first?.count ?? 0) }
        private func value(_ c: Int32) -> StoredValue { rows[index][Int(c)] }
        func type(_ c: Int32) -> SQLValueType {
            switch value(c) {
            case .null: .null
            case .integer: .integer
            case .real: .real
            case .text: .text
            case .blob: .blob
            }
        }
        func int64(_ c: Int32) -> Int64 { if case .integer(let v) = value(c) { v } else { 0 } }
        func double(_ c: Int32) -> Double { if case .real(let bits) = value(c) { Double(bitPattern: bits) } else { 0 } }
        func text(_ c: Int32) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(cells[index][Int(c)]) }
        func blob(_ c: Int32) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(cells[index][Int(c)]) }
        func byteCount(_ c: Int32) -> Int { cells[index][Int(c)].count }
    }

    let plan: SchemaPlan
    let data: [String: [[StoredValue]]]
    var stopped = false
    init(plan: SchemaPlan, data: [String: [[StoredValue]]]) {
        self.plan = plan
        self.data = data
    }

    var name: String { "memory" }
    var engineVersion: String { "3.45.0" }
    func schema(for dialect: Dialect) throws -> SchemaPlan { plan }
    func rows(of table: TableSpec) throws -> Cursor { Cursor(rows: data[table.name] ?? []) }
    func rows(of table: InternalTable) throws -> Cursor { Cursor(rows: []) }
    func sourceChecks(cancellation: Cancellation?) throws -> SourceChecks? { nil }
    func stop() { stopped = true }
}

@Suite("Row sources")
struct RowSourceTests {
    @Test("a source that is not a local file dumps through the same writer, and sqlite3 restores it exactly")
    func memorySource() throws {
        let dir = try TemporaryDirectory("rowsource")
        defer { dir.remove() }
        var plan = SchemaPlan()
        let rows: [[StoredValue]] = [
            [.integer(1), .text(Array("it's \"quoted\"\nline 2 ✓".utf8)), .blob([0, 1, 0xFF]), .real((0.1 + 0.2).bitPattern)],
            [.integer(Int64.min), .null, .blob([]), .real((-1.5e308).bitPattern)],
        ]
        plan.tables = [TableSpec(name: "t", sql: "CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT, c BLOB, d REAL)", kind: .table,
                                 withoutRowid: false, columns: ["a", "b", "c", "d"], selectsRowid: false, insertsRowid: false,
                                 rowidName: "rowid", primaryKey: ["a"], omitsColumns: false, dependencies: [],
                                 rowCount: Int64(rows.count))]
        plan.indexes = ["CREATE INDEX t_b ON t(b)"]
        let source = MemorySource(plan: plan, data: ["t": rows])
        let script = dir.file("d.sql")
        let summary = try Dumper(source: source, options: DumpOptions()).run(into: try FileSink.atomicFile(at: script))
        #expect(summary.rows == 2 && summary.tables == 1)
        let text = try String(contentsOfFile: script, encoding: .utf8)
        #expect(text.contains("-- source: \"memory\"") && text.contains("-- table: 2 \"t\""))

        let restored = dir.file("r.db")
        let result = try ProcessRunner.run(["sqlite3", "-bail", restored], stdinFile: script)
        #expect(result.status == 0, "\(result.stderrText)")
        let back = try TestDatabase(restored).query("SELECT a, b, c, d FROM t ORDER BY a")
        #expect(back == rows.sorted { a, b in
            if case .integer(let x) = a[0], case .integer(let y) = b[0] { return x < y }
            return false
        })
        #expect(try TestDatabase(restored).strings("SELECT name FROM sqlite_schema WHERE type = 'index'") == ["t_b"])
    }

    @Test("a failing source is stopped and the sink aborted")
    func failingSource() throws {
        final class Failing: RowSource {
            var stopped = false
            var name: String { "failing" }
            var engineVersion: String { "3.45.0" }
            func schema(for dialect: Dialect) throws -> SchemaPlan {
                var plan = SchemaPlan()
                plan.tables = [TableSpec(name: "t", sql: "CREATE TABLE t(a)", kind: .table, withoutRowid: false, columns: ["a"],
                                         selectsRowid: false, insertsRowid: false, rowidName: "rowid", primaryKey: [],
                                         omitsColumns: false, dependencies: [], rowCount: 1)]
                return plan
            }
            func rows(of table: TableSpec) throws -> MemorySource.Cursor { throw DumpError(.sqlite, "the remote source went away") }
            func rows(of table: InternalTable) throws -> MemorySource.Cursor { MemorySource.Cursor(rows: []) }
            func sourceChecks(cancellation: Cancellation?) throws -> SourceChecks? { nil }
            func stop() { stopped = true }
        }
        let source = Failing()
        let sink = CollectingSink()
        #expect(throws: DumpError.self) { _ = try Dumper(source: source, options: DumpOptions()).run(into: sink) }
        #expect(source.stopped)
        #expect(sink.abortReason?.contains("went away") == true)
    }
}
