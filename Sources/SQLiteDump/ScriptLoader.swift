import ChunkIO
import CSQLite
import Foundation

/// Executes a SQL script streamed in chunks into a database: the restore side of the format.
///
/// Backstream's own INSERT lines are parsed here and run through cached prepared statements
/// (one per table), which skips SQLite's parser for every row; anything else is executed as
/// SQL. The loader runs the whole script in one transaction of its own, whatever the script
/// says, and reports the header and whether the completion trailer arrived.
public final class ScriptLoader: ChunkSink {
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
    public internal(set) var statements = 0
    public internal(set) var rowsInserted: Int64 = 0
    /// The completion line, when the script carried one.
    public private(set) var trailer: String?
    public var header: DumpHeader { DumpHeader(lines: headerLines) }
    public var cancellation: Cancellation?

    /// Opens (creating) the database at `databasePath`, tuned for a one-shot bulk load: the
    /// caller loads into a fresh file and discards it on failure, so no journal is kept.
    public init(databasePath: String, name: String) throws(DumpError) {
        connection = try Connection(path: databasePath, readOnly: false)
        self.name = name
        try connection.execute("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-6144;")
    }

    deinit {
        pending.free()
        scratch.free()
    }

    public func write(_ chunk: Chunk) throws {
        defer { chunk.recycle() }
        try feed(chunk.bytes)
    }

    /// Loads bytes the caller keeps ownership of.
    public func feed(_ bytes: UnsafeRawBufferPointer) throws {
        pending.append(bytes)
        try drain(final: false)
        if cancellation?.isCancelled == true {
            throw DumpError(.cancelled, "interrupted while restoring \(name)")
        }
    }

    public func finish() throws {
        try drain(final: true)
        if inTransaction {
            try connection.execute("COMMIT")
            inTransaction = false
        }
        cache.removeAll()
        lastStatement = nil
    }

    public func abort(_ error: Error) {
        if inTransaction { try? connection.execute("ROLLBACK") }
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
                continue
            }
            if n >= 12 && memcmp(p, Self.insertInto, 12) == 0 {
                switch try insert(p, n, final: final) {
                case .done(let length):
                    pending.consume(length)
                    continue
                case .incomplete:
                    if !final { waitForMore(); return }
                case .unsupported:
                    break
                }
            }
            guard let length = statementLength(p, n) else {
                if !final { waitForMore(); return }
                throw DumpError(.invalidScript, "\(name) ends in the middle of a SQL statement; the backup is truncated")
            }
            try execute(UnsafeRawBufferPointer(start: p, count: length))
            pending.consume(length)
        }
    }

    private func waitForMore() {
        retryAt = pending.count + max(pending.count, 64 * 1024)
    }

    private func record(comment: String) {
        if comment.hasPrefix(DumpFormat.trailerPrefix) {
            trailer = comment
        } else if !seenStatement {
            headerLines.append(comment)
        }
    }

    private func skipWhitespace() {
        let p = pending.readPointer.assumingMemoryBound(to: UInt8.self)
        var i = 0
        let n = pending.count
        while i < n, p[i] == 0x20 || p[i] == 0x0A || p[i] == 0x09 || p[i] == 0x0D { i += 1 }
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

    /// Runs one statement through SQLite's parser.
    private func execute(_ sql: UnsafeRawBufferPointer) throws {
        let head = String(decoding: sql.prefix(20), as: UTF8.self).uppercased()
        seenStatement = true
        statements += 1
        // The loader owns the transaction: the script's own markers are honoured implicitly.
        if head.hasPrefix("BEGIN") || head.hasPrefix("COMMIT") || head.hasPrefix("END") { return }
        // Memory and durability settings are the loader's: a script's cache_size must not lift
        // the memory bound of a restore.
        for owned in Self.ownedPragmas where head.hasPrefix(owned) { return }
        if !inTransaction && !head.hasPrefix("PRAGMA") { try begin() }
        var tail: UnsafePointer<CChar>?
        var stmt: OpaquePointer?
        let base = sql.baseAddress?.assumingMemoryBound(to: CChar.self)
        let rc = sqlite3_prepare_v2(connection.handle, base, Int32(sql.count), &stmt, &tail)
        guard rc == SQLITE_OK else { throw statementError(rc, sql) }
        guard let stmt else { return }
        defer { sqlite3_finalize(stmt) }
        while true {
            let step = sqlite3_step(stmt)
            if step == SQLITE_DONE { break }
            if step != SQLITE_ROW { throw statementError(step, sql) }
        }
    }

    func begin() throws {
        try connection.execute("BEGIN")
        inTransaction = true
    }

    private func statementError(_ rc: Int32, _ sql: UnsafeRawBufferPointer) -> DumpError {
        let message = String(cString: sqlite3_errmsg(connection.handle))
        let snippet = String(decoding: sql.prefix(100), as: UTF8.self)
        return DumpError(.invalidScript, "statement \(statements) of \(name) failed: \(message) (in: \(snippet)…)")
    }

    static let insertInto: [UInt8] = Array("INSERT INTO ".utf8)
    static let ownedPragmas = ["PRAGMA CACHE_SIZE", "PRAGMA SYNCHRONOUS", "PRAGMA JOURNAL_MODE", "PRAGMA MMAP_SIZE"]
}
