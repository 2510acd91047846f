import ChunkIO
import CSQLite
import Foundation
import Support
import SQLiteAccess

/// Executes a SQL script streamed in chunks into a database: the restore side of the format.
///
/// Backstream's own INSERT lines are parsed here and run through cached prepared statements
/// (one per table), which skips SQLite's parser for every row; anything else is executed as
/// SQL. The loader runs the whole script in one transaction of its own, whatever the script
/// says, and reports the header and whether the completion trailer arrived.
///
/// A script is untrusted input: every statement runs under `LoaderSandbox` on a hardened
/// connection, only the statement kinds the writer emits are accepted, and a statement may
/// not grow past `maxStatementBytes` (an unterminated quote would otherwise buffer the rest of
/// the stream).
package final class ScriptLoader: ChunkSink {
    /// What the loader accepts: Backstream's own scripts only, or any SQL script (for example
    /// `sqlite3 .dump` output), run under the same sandbox.
    package enum Source: Sendable { case backstream, anyScript }

    let connection: Connection
    let name: String
    var pending = ByteBuffer(capacity: 1 << 20)
    var scratch = ByteBuffer(capacity: 1 << 16)
    var values: [LoaderValue] = []
    var cache: [[UInt8]: Statement] = [:]
    var lastPrefix: [UInt8] = []
    var lastStatement: Statement?
    var inTransaction = false
    var seenStatement = false
    /// After an incomplete statement, wait for this much input before parsing again, so a
    /// statement arriving in many small pieces is parsed a logarithmic number of times.
    var retryAt = 0
    private var headerLines: [String] = []
    let sandbox = LoaderSandbox()
    let accepts: Source
    let maxStatementBytes: Int
    /// Line number (1-based) of the first pending byte, for error messages.
    private(set) var line = 1
    private var bytesSeen = 0
    private var checkedHeader = false
    /// True when the script does not start with Backstream's header (allowed only for `.anyScript`).
    package private(set) var isForeign = false
    /// What the writer recorded about the source database at backup time, when it did.
    package private(set) var sourceChecks: SourceChecks?
    package internal(set) var statements = 0
    package internal(set) var rowsInserted: Int64 = 0
    /// The completion line, when the script carried one.
    package private(set) var trailer: String?
    package var header: DumpHeader { DumpHeader(lines: headerLines) }
    package var cancellation: Cancellation?

    /// The default bound of one statement: rows with values of up to about 30 MiB of BLOB.
    package static let defaultMaxStatementBytes = 64 << 20

    /// Opens (creating) the database at `databasePath`, tuned for a one-shot bulk load: the
    /// caller loads into a fresh file and discards it on failure, so no journal is kept.
    /// A symbolic link at `databasePath` is refused.
    package init(databasePath: String, name: String, accepts: Source = .backstream,
                maxStatementBytes: Int = ScriptLoader.defaultMaxStatementBytes) throws {
        connection = try Connection(path: databasePath, readOnly: false, noFollow: true)
        self.name = name
        self.accepts = accepts
        self.maxStatementBytes = max(1 << 16, maxStatementBytes)
        try connection.execute("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-6144;")
        try connection.harden()
        sqlite3_progress_handler(connection.handle, 10_000, { context in
            guard let context else { return 0 }
            return Unmanaged<ScriptLoader>.fromOpaque(context).takeUnretainedValue().cancellation?.isCancelled == true ? 1 : 0
        }, Unmanaged.passUnretained(self).toOpaque())
        sandbox.install(on: connection)
    }

    deinit {
        sqlite3_progress_handler(connection.handle, 0, nil, nil)
        sandbox.remove(from: connection)
        pending.free()
        scratch.free()
    }

    package func write(_ chunk: Chunk) throws {
        defer { chunk.recycle() }
        try feed(chunk.bytes)
    }

    /// Loads bytes the caller keeps ownership of.
    package func feed(_ bytes: UnsafeRawBufferPointer) throws {
        bytesSeen += bytes.count
        if pending.count + bytes.count > maxStatementBytes {
            // Parse what is buffered before deciding that one statement is too long.
            retryAt = 0
            try drain(final: false)
            if pending.count + bytes.count > maxStatementBytes {
                throw DumpError(.invalidScript, "\(name): the statement at line \(line) is longer than \(maxStatementBytes >> 20) MiB "
                                + "(an unterminated quote, or a damaged backup); the loader stopped there")
            }
        }
        pending.append(bytes)
        if !checkedHeader { try checkHeader(final: false) }
        try drain(final: false)
        if cancellation?.isCancelled == true {
            throw DumpError(.cancelled, "interrupted while restoring \(name)")
        }
    }

    package func finish() throws {
        guard bytesSeen > 0 else { throw DumpFormat.emptyScript(name) }
        if !checkedHeader { try checkHeader(final: true) }
        try drain(final: true)
        if inTransaction {
            try transactionControl("COMMIT")
            inTransaction = false
        }
        cache.removeAll()
        lastStatement = nil
    }

    package func abort(_ error: Error) {
        if inTransaction { try? transactionControl("ROLLBACK") }
        inTransaction = false
        cache.removeAll()
        lastStatement = nil
    }

    // MARK: statement loop

    private func drain(final: Bool) throws {
        if !final && pending.count < retryAt { return }
        retryAt = 0
        while true {
            skipWhitespace()
            if pending.isEmpty { return }
            let p = pending.readPointer.assumingMemoryBound(to: UInt8.self)
            let n = pending.count
            if n >= 2 && p[0] == UInt8(ascii: "-") && p[1] == UInt8(ascii: "-") {
                guard let newline = memchr(p, 0x0A, n) else {
                    if !final { waitForMore(); return }
                    record(comment: String(decoding: UnsafeRawBufferPointer(start: p, count: n), as: UTF8.self))
                    pending.consume(n)
                    continue
                }
                let length = UnsafeRawPointer(newline) - UnsafeRawPointer(p)
                record(comment: String(decoding: UnsafeRawBufferPointer(start: p, count: length), as: UTF8.self))
                pending.consume(length + 1)
                line += 1
                continue
            }
            if n >= 12 && memcmp(p, Self.insertInto, 12) == 0 {
                switch try insert(p, n, final: final) {
                case .done(let length):
                    consume(length)
                    continue
                case .incomplete:
                    if !final { waitForMore(); return }
                case .unsupported:
                    break
                }
            }
            guard let length = statementLength(p, n) else {
                if !final { waitForMore(); return }
                throw DumpError(.invalidScript, "\(name) ends in the middle of the SQL statement at line \(line); the backup is truncated")
            }
            try execute(UnsafeRawBufferPointer(start: p, count: length))
            consume(length)
        }
    }

    /// Consumes `n` pending bytes, counting the lines they span.
    private func consume(_ n: Int) {
        var p = pending.readPointer
        let end = p + n
        while p < end, let newline = memchr(p, 0x0A, end - p) {
            line += 1
            p = UnsafeRawPointer(newline) + 1
        }
        pending.consume(n)
    }

    /// A Backstream script starts with its header line; anything else is foreign.
    private func checkHeader(final: Bool) throws {
        let expected = DumpFormat.headerFirstLine.utf8
        guard pending.count >= expected.count || final else { return }
        checkedHeader = true
        let head = UnsafeRawBufferPointer(start: pending.readPointer, count: min(pending.count, expected.count))
        isForeign = try DumpFormat.checkHeader(head, name: name, accepts: accepts)
    }

    private func waitForMore() {
        retryAt = pending.count + max(pending.count, 64 * 1024)
    }

    private func record(comment: String) {
        if comment.hasPrefix(DumpFormat.trailerPrefix) {
            trailer = comment
        } else if comment.hasPrefix(SourceChecks.prefix) {
            sourceChecks = SourceChecks(line: comment)
        } else if !seenStatement {
            headerLines.append(comment)
        }
    }

    private func skipWhitespace() {
        let p = pending.readPointer.assumingMemoryBound(to: UInt8.self)
        var i = 0
        let n = pending.count
        while i < n, p[i] == 0x20 || p[i] == 0x0A || p[i] == 0x09 || p[i] == 0x0D {
            if p[i] == 0x0A { line += 1 }
            i += 1
        }
        if i > 0 { pending.consume(i) }
    }

    /// Length of the first complete statement (through its ';'), or nil when more input is needed.
    /// Quoted text is skipped here; only a ';' outside quotes asks `sqlite3_complete`, which
    /// knows that a trigger body's inner semicolons do not end the statement.
    private func statementLength(_ p: UnsafePointer<UInt8>, _ n: Int) -> Int? {
        var i = 0
        while i < n {
            let b = p[i]
            if b == 0x27 || b == 0x22 || b == 0x60 || b == 0x5B {
                let close = b == 0x5B ? UInt8(0x5D) : b
                guard let q = memchr(p + i + 1, Int32(close), n - i - 1) else { return nil }
                i = UnsafeRawPointer(q) - UnsafeRawPointer(p) + 1
                continue
            }
            if b == UInt8(ascii: "-"), i + 1 < n, p[i + 1] == UInt8(ascii: "-") {
                guard let newline = memchr(p + i, 0x0A, n - i) else { return nil }
                i = UnsafeRawPointer(newline) - UnsafeRawPointer(p) + 1
                continue
            }
            if b == UInt8(ascii: "/"), i + 1 < n, p[i + 1] == UInt8(ascii: "*") {
                var j = i + 2
                while j + 1 < n, !(p[j] == UInt8(ascii: "*") && p[j + 1] == UInt8(ascii: "/")) { j += 1 }
                guard j + 1 < n else { return nil }
                i = j + 2
                continue
            }
            i += 1
            if b == UInt8(ascii: ";") {
                scratch.removeAll()
                scratch.append(UnsafeRawBufferPointer(start: p, count: i))
                scratch.append(byte: 0)
                if sqlite3_complete(scratch.readPointer.assumingMemoryBound(to: CChar.self)) != 0 { return i }
            }
        }
        return nil
    }

    /// Runs the statements of `sql` through SQLite's parser, each checked against the kinds a
    /// Backstream script holds before the sandbox sees it.
    private func execute(_ sql: UnsafeRawBufferPointer) throws {
        guard var rest = sql.baseAddress?.assumingMemoryBound(to: CChar.self) else { return }
        let end = rest + sql.count
        while rest < end {
            let remaining = UnsafeRawBufferPointer(start: rest, count: end - rest)
            guard let keyword = StatementKind.firstKeyword(remaining) else { return }
            seenStatement = true
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

    func begin() throws {
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

    func statementError(_ rc: Int32, _ sql: UnsafeRawBufferPointer) -> DumpError {
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

    static let insertInto: [UInt8] = Array("INSERT INTO ".utf8)
}
