import ChunkIO
import Foundation
import SQLiteAccess

/// Rewrites a script for D1's importer as it streams, statement by statement: what
/// `--dialect d1` would have written, for a backup made in the sqlite dialect. Transaction
/// statements, pragmas other than `defer_foreign_keys` (which it adds before the first
/// statement), ANALYZE and `sqlite_stat*` / `_cf_*` writes go; everything else passes unchanged,
/// so a d1-dialect script comes out as it went in. A row over D1's statement limit is split into
/// an INSERT and UPDATEs (`D1DialectConverter+Split`). Memory holds one chunk, one statement
/// and the CREATE TABLE texts; a statement that is still unfinished past the limit is refused.
package final class D1DialectConverter: ChunkSink {
    /// Receives the converted text, in order; the caller owns the bytes only during the call.
    package typealias Output = (UnsafeRawBufferPointer) throws -> Void

    /// D1's cap on one statement.
    package static let statementLimit = Dialect.d1.statementLimit ?? 100_000
    /// The longest statement buffered: a row of a few values at D1's 2 MB per-value cap, in hex.
    static let maxStatementBytes = 16 << 20

    private let output: Output
    let name: String
    private var pending = ByteBuffer(capacity: 1 << 20)
    private var scratch = ByteBuffer(capacity: 1 << 16)
    private var deferredForeignKeys = false
    /// Line of the statement being converted, for messages.
    private(set) var line = 1
    /// CREATE TABLE texts by lower-cased name, replayed in memory when a row must be split.
    private var createTable: [String: String] = [:]
    private var schemas: [String: TableSchema] = [:]
    private var schemaConnection: Connection?

    /// What splitting a row needs to know of its table.
    struct TableSchema {
        var columns: [String]
        /// `rowid` or the alias not taken by a column; nil for WITHOUT ROWID tables.
        var rowidName: String?
    }
    /// Statements written, and left out because D1 refuses them.
    package private(set) var statements = 0
    package private(set) var dropped = 0
    /// What the conversion could not carry over (header pragmas D1 refuses).
    package private(set) var notes: [String] = []

    package init(name: String, output: @escaping Output) {
        self.name = name
        self.output = output
    }

    deinit {
        pending.free()
        scratch.free()
    }

    package func write(_ chunk: Chunk) throws {
        defer { chunk.recycle() }
        try feed(chunk.bytes)
    }

    /// Converts bytes the caller keeps ownership of.
    package func feed(_ bytes: UnsafeRawBufferPointer) throws {
        pending.append(bytes)
        try drain(final: false)
        // Whatever is left is one unfinished statement (or comment line).
        if pending.count > Self.maxStatementBytes {
            throw DumpError(.valueTooLarge, "\(name): the statement at line \(line) is longer than \(Self.maxStatementBytes >> 20) MiB, more than D1 holds in a row (or an unterminated quote)")
        }
    }

    package func finish() throws {
        try drain(final: true)
    }

    package func abort(_ error: Error) {}

    private func drain(final: Bool) throws {
        while true {
            line += pending.skipWhitespace()
            if pending.isEmpty { return }
            let p = pending.readPointer.assumingMemoryBound(to: UInt8.self)
            let n = pending.count
            switch StatementScanner.commentLine(p, n, final: final) {
            case .incomplete:
                return
            case .line(let length, let consumed):
                try comment(UnsafeRawBufferPointer(start: p, count: length))
                pending.consume(consumed)
                if consumed > length { line += 1 }
                continue
            case .notComment:
                break
            }
            guard let length = StatementScanner.length(p, n, scratch: &scratch) else {
                if !final { return }
                throw DumpError(.invalidScript, "\(name): the script ends inside the statement at line \(line); the backup is truncated or damaged")
            }
            try statement(UnsafeRawBufferPointer(start: p, count: length))
            line += Self.newlines(p, length)
            pending.consume(length)
        }
    }

    private func comment(_ text: UnsafeRawBufferPointer) throws {
        if text.elementsEqual("-- dialect: sqlite".utf8) {
            try emit("-- dialect: d1")
        } else {
            try output(text)
            try emit("")
        }
    }

    private func statement(_ sql: UnsafeRawBufferPointer) throws {
        guard keeps(sql) else {
            dropped += 1
            return
        }
        guard sql.count <= Self.statementLimit else {
            guard SQLWords(sql, limit: 1).first == "insert" else {
                throw DumpError(.valueTooLarge, "\(name): the statement at line \(line) is \(sql.count) bytes, over D1's \(Self.statementLimit)-byte limit")
            }
            try splitInsert(sql)
            return
        }
        try write(statement: sql)
    }

    /// Writes one statement D1 accepts, after the foreign-key pragma when it is the first.
    func write(statement sql: UnsafeRawBufferPointer) throws {
        if !deferredForeignKeys {
            // D1 always enforces foreign keys: rows of a cycle need the check at the end.
            deferredForeignKeys = true
            try emit("PRAGMA defer_foreign_keys=TRUE;")
        }
        try output(sql)
        try emit("")
        statements += 1
    }

    /// False for what D1's importer refuses or what only the sqlite dialect needs.
    private func keeps(_ sql: UnsafeRawBufferPointer) -> Bool {
        let words = SQLWords(sql, limit: 8)
        switch words.first {
        case "begin", "commit", "end", "rollback", "savepoint", "release", "analyze":
            return false
        case "pragma":
            let pragma = words.at(1) ?? ""
            if pragma == "defer_foreign_keys" {
                if deferredForeignKeys { return false }
                deferredForeignKeys = true
                return true
            }
            if (pragma == "user_version" || pragma == "application_id"), let value = words.at(2), value != "0" {
                notes.append("PRAGMA \(pragma)=\(value) is not restored: D1 refuses it")
            }
            return false
        case "insert", "replace":
            return !Self.isReserved(words.after("into"))
        case "delete":
            return !Self.isReserved(words.after("from"))
        case "update":
            return !Self.isReserved(words.at(1) == "or" ? words.at(3) : words.at(1))
        case "create":
            guard words.at(1) == "table" || words.at(2) == "table" else { return true }
            let afterTable = words.after("table")
            guard let table = afterTable == "if" ? words.after("exists") : afterTable, !Self.isReserved(table) else { return false }
            createTable[table] = String(decoding: sql, as: UTF8.self)
            return true
        default:
            return true
        }
    }

    /// The columns and rowid name of `table`, from its CREATE TABLE replayed in a private
    /// in-memory database (SQLite's own reading of the schema); nil when none was seen.
    func tableSchema(_ table: String) throws -> TableSchema? {
        let key = table.lowercased()
        if let known = schemas[key] { return known }
        guard let sql = createTable[key] else { return nil }
        let db = try schemaConnection ?? Connection(path: ":memory:", readOnly: false)
        schemaConnection = db
        try db.execute(sql)
        let literal = SQLIdentifier.literal(table)
        var columns: [String] = [], all: Set<String> = []
        let info = try db.prepare("SELECT name, hidden FROM pragma_table_xinfo(\(literal))")
        while try info.step() {
            all.insert(info.string(0).lowercased())
            if info.int64(1) == 0 { columns.append(info.string(0)) }
        }
        let withoutRowid = try db.scalarInt("SELECT count(*) FROM pragma_table_list WHERE schema = 'main' AND name = \(literal) AND wr") > 0
        let schema = TableSchema(columns: columns, rowidName: withoutRowid ? nil : ["rowid", "_rowid_", "oid"].first { !all.contains($0) })
        schemas[key] = schema
        return schema
    }

    /// D1's internal tables and the statistics tables, which an import may not write.
    private static func isReserved(_ table: String?) -> Bool {
        guard let table else { return false }
        return table.hasPrefix("_cf_") || table.hasPrefix("sqlite_stat")
    }

    private func emit(_ text: String) throws {
        var terminated = text + "\n"
        try terminated.withUTF8 { try output(UnsafeRawBufferPointer($0)) }
    }

    private static func newlines(_ p: UnsafePointer<UInt8>, _ n: Int) -> Int {
        var count = 0
        for i in 0..<n where p[i] == 0x0A { count += 1 }
        return count
    }
}
