import CSQLite
import Foundation
import Support
import SQLiteAccess

/// The SQLite half of the loader: runs the operations the parser put in `LoadBatch`es, in
/// order, on the hardened connection under `LoaderSandbox`, inside the loader's one transaction.
///
/// One thread at a time owns it: the loader's SQLite thread while the load runs, the caller
/// before that thread starts and after it has ended.
final class LoadExecutor: @unchecked Sendable {
    let connection: Connection
    let name: String
    let sandbox = LoaderSandbox()
    var cancellation: Cancellation?
    private(set) var inTransaction = false
    private(set) var statements = 0
    private(set) var rowsInserted: Int64 = 0
    /// Line of the statement being run, for error messages.
    private var line = 1
    private var prefixes: [[UInt8]] = []
    /// Prepared inserts by prefix id, then value count.
    private var cache: [[Int: Statement]] = []
    private var lastKey = -1
    private var lastStatement: Statement?

    init(databasePath: String, name: String) throws {
        connection = try Connection(path: databasePath, readOnly: false, noFollow: true)
        self.name = name
        // A fresh private file that the caller discards on failure: no journal, no syncs (the
        // restore syncs the finished file before renaming it into place). The sorter that builds
        // indexes after the data gets a helper thread, and each of its two threads sorts up to a
        // cache's worth: with a 6 MiB cache a 2 GB restore from S3 peaked at 66.5 MiB of RSS
        // there; 3 MiB keeps it at 52 MiB and built the portal indexes no slower.
        try connection.execute("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-3072; PRAGMA threads=1;")
        try connection.harden()
        sqlite3_progress_handler(connection.handle, 10_000, { context in
            guard let context else { return 0 }
            return Unmanaged<LoadExecutor>.fromOpaque(context).takeUnretainedValue().cancellation?.isCancelled == true ? 1 : 0
        }, Unmanaged.passUnretained(self).toOpaque())
        sandbox.install(on: connection)
    }

    deinit {
        sqlite3_progress_handler(connection.handle, 0, nil, nil)
        sandbox.remove(from: connection)
    }

    /// Runs every operation of `batch`.
    func run(_ batch: LoadBatch) throws {
        if cancellation?.isCancelled == true { throw DumpError(.cancelled, "interrupted while restoring \(name)") }
        var reader = LoadReader(batch.buffer)
        while !reader.atEnd {
            switch LoadOp(rawValue: reader.byte()) {
            case .define:
                let id = Int(reader.read(UInt32.self))
                let length = Int(reader.read(UInt32.self))
                let prefix = Array(reader.bytes(length))
                if id == prefixes.count {
                    prefixes.append(prefix)
                    cache.append([:])
                } else {
                    // The parser reuses ids: statements of the id's old prefix go.
                    prefixes[id] = prefix
                    cache[id] = [:]
                    if lastKey >> 32 == id { lastKey = -1; lastStatement = nil }
                }
            case .insert:
                let id = Int(reader.read(UInt32.self))
                let count = Int(reader.read(UInt32.self))
                line = Int(reader.read(Int64.self))
                try insert(statement(id: id, count: count), count: count, &reader)
            case .execute:
                line = Int(reader.read(Int64.self))
                let length = Int(reader.read(UInt32.self))
                try execute(reader.bytes(length))
            case nil:
                throw DumpError(.invalidScript, "\(name): the loader's hand-over buffer is damaged")
            }
        }
    }

    func commit() throws {
        if inTransaction {
            try transactionControl("COMMIT")
            inTransaction = false
        }
        finalizeStatements()
    }

    func rollback() {
        if inTransaction { try? transactionControl("ROLLBACK") }
        inTransaction = false
        finalizeStatements()
    }

    private func finalizeStatements() {
        for id in cache.indices { cache[id] = [:] }
        lastStatement = nil
        lastKey = -1
    }

    // MARK: the fast path

    /// The cached insert for prefix `id` with `count` values, prepared on first use.
    private func statement(id: Int, count: Int) throws -> Statement {
        let key = id << 32 | count
        if key == lastKey, let lastStatement { return lastStatement }
        let stmt: Statement
        if let cached = cache[id][count] {
            stmt = cached
        } else {
            if !inTransaction { try begin() }
            let prefix = prefixes[id]
            let sql = String(decoding: prefix, as: UTF8.self) + Array(repeating: "?", count: count).joined(separator: ",") + ")"
            sandbox.reset()
            do {
                stmt = try connection.prepare(sql)
            } catch {
                if sandbox.denial != nil { throw prefix.withUnsafeBytes { statementError(SQLITE_AUTH, $0) } }
                throw error
            }
            cache[id][count] = stmt
        }
        lastKey = key
        lastStatement = stmt
        return stmt
    }

    private func insert(_ stmt: Statement, count: Int, _ reader: inout LoadReader) throws {
        if !inTransaction { try begin() }
        let h = stmt.handle
        var index: Int32 = 1
        while index <= count {
            defer { index += 1 }
            switch LoadValueTag(rawValue: reader.byte()) {
            case .integer: sqlite3_bind_int64(h, index, reader.read(Int64.self))
            case .real: sqlite3_bind_double(h, index, Double(bitPattern: reader.read(UInt64.self)))
            case .text:
                let value = reader.bytes(Int(reader.read(UInt32.self)))
                // The batch's pointer is never null, so an empty text binds '' rather than NULL.
                sqlite3_bind_text(h, index, value.baseAddress?.assumingMemoryBound(to: CChar.self), Int32(value.count), nil)
            case .blob:
                let value = reader.bytes(Int(reader.read(UInt32.self)))
                sqlite3_bind_blob(h, index, value.baseAddress, Int32(value.count), nil)
            case .null, nil: sqlite3_bind_null(h, index)
            }
        }
        let rc = sqlite3_step(h)
        sqlite3_reset(h)
        guard rc == SQLITE_DONE else {
            if rc == SQLITE_INTERRUPT { throw DumpError(.cancelled, "interrupted while restoring \(name)") }
            let message = String(cString: sqlite3_errmsg(connection.handle))
            throw DumpError(.invalidScript, "row \(rowsInserted + 1) of \(name) (line \(line)) failed to insert: \(message)")
        }
        rowsInserted += 1
        statements += 1
    }

    // MARK: everything else

    /// Runs the statements of `sql` through SQLite's parser, each checked against the kinds a
    /// Backstream script holds before the sandbox sees it.
    private func execute(_ sql: UnsafeRawBufferPointer) throws {
        guard var rest = sql.baseAddress?.assumingMemoryBound(to: CChar.self) else { return }
        let end = rest + sql.count
        while rest < end {
            let remaining = UnsafeRawBufferPointer(start: rest, count: end - rest)
            guard let keyword = StatementKind.firstKeyword(remaining) else { return }
            statements += 1
            switch StatementKind(keyword: keyword, text: remaining) {
            case .ignored:
                // The loader owns the transaction and the memory/durability settings: the
                // script's BEGIN/COMMIT and speed pragmas are honoured implicitly.
                guard let next = StatementKind.end(of: remaining) else { return }
                rest = next
                continue
            case .refused:
                throw refused(keyword.uppercased(), remaining)
            case .allowed:
                if !inTransaction && keyword != "pragma" { try begin() }
            }
            sandbox.reset()
            var tail: UnsafePointer<CChar>?
            var stmt: OpaquePointer?
            let rc = sqlite3_prepare_v2(connection.handle, rest, Int32(end - rest), &stmt, &tail)
            guard rc == SQLITE_OK else { throw statementError(rc, remaining) }
            guard let stmt else { return }
            defer { sqlite3_finalize(stmt) }
            while true {
                let step = sqlite3_step(stmt)
                if step == SQLITE_DONE { break }
                if step != SQLITE_ROW { throw statementError(step, remaining) }
            }
            guard let tail, tail > rest else { return }
            rest = tail
        }
    }

    private func begin() throws {
        try transactionControl("BEGIN")
        inTransaction = true
    }

    /// The loader's own BEGIN/COMMIT/ROLLBACK: the only transaction control the sandbox allows.
    private func transactionControl(_ sql: String) throws {
        sandbox.loaderOwnsTransaction = true
        defer { sandbox.loaderOwnsTransaction = false }
        try connection.execute(sql)
    }

    private func refused(_ keyword: String, _ sql: UnsafeRawBufferPointer) -> DumpError {
        DumpError(.refusedStatement, "\(name): statement \(statements) at line \(line) (\(keyword)) is not something a backup may run; "
                  + "the loader refused it and wrote nothing (in: \(Self.snippet(sql))…)")
    }

    private func statementError(_ rc: Int32, _ sql: UnsafeRawBufferPointer) -> DumpError {
        if rc == SQLITE_INTERRUPT { return DumpError(.cancelled, "interrupted while restoring \(name)") }
        if let denial = sandbox.denial {
            return DumpError(.refusedStatement, "\(name): statement \(statements) at line \(line) tried \(denial), which a backup may not do; "
                             + "the loader refused it and wrote nothing (in: \(Self.snippet(sql))…)")
        }
        let message = String(cString: sqlite3_errmsg(connection.handle))
        return DumpError(.invalidScript, "statement \(statements) (line \(line)) of \(name) failed: \(message) (in: \(Self.snippet(sql))…)")
    }

    static func snippet(_ sql: UnsafeRawBufferPointer) -> String {
        String(decoding: sql.prefix(100), as: UTF8.self).replacingOccurrences(of: "\n", with: " ")
    }
}
