import ChunkIO
import CSQLite
import Foundation
import Support
import SQLiteAccess

/// Executes a SQL script streamed in chunks into a database: the restore side of the format.
///
/// Two threads share the work. The caller's thread splits the stream into statements and
/// parses Backstream's own INSERT lines into bound values (`InsertParser`), handing them over
/// in `LoadBatch`es; the loader's SQLite thread (`LoadExecutor`) runs them through cached
/// prepared statements, one per table, and everything else through SQLite's parser. The loader
/// runs the whole script in one transaction of its own, whatever the script says, and reports
/// the header and whether the completion trailer arrived. A failure on either thread stops
/// the other; the first failing statement in script order is the one reported.
///
/// A script is untrusted input: every statement runs under `LoaderSandbox` on a hardened
/// connection, only the statement kinds the writer emits are accepted, and a statement may
/// not grow past `maxStatementBytes` (an unterminated quote would otherwise buffer the rest of
/// the stream).
package final class ScriptLoader: ChunkSink {
    /// What the loader accepts: Backstream's own scripts only, or any SQL script (for example
    /// `sqlite3 .dump` output), run under the same sandbox.
    package enum Source: Sendable { case backstream, anyScript }

    let name: String
    var pending = ByteBuffer(capacity: 1 << 20)
    var scratch = ByteBuffer(capacity: 1 << 16)
    let pipeline: LoadPipeline
    var executor: LoadExecutor { pipeline.executor }
    /// The batch being filled, and the insert prefixes it and earlier batches defined.
    private var batch: LoadBatch?
    private var prefixIDs: [[UInt8]: UInt32] = [:]
    private var lastPrefix: [UInt8] = []
    private var lastPrefixID: UInt32 = 0
    private var prefixBytes = 0
    static let maxPrefixes = 64
    static let maxPrefixBytes = 1 << 20
    var seenStatement = false
    /// After an incomplete statement, wait for this much input before parsing again, so a
    /// statement arriving in many small pieces is parsed a logarithmic number of times.
    var retryAt = 0
    private var headerLines: [String] = []
    private var headerBytes = 0
    let accepts: Source
    let maxStatementBytes: Int
    /// Line number (1-based) of the first pending byte, for error messages.
    var line = 1
    private var bytesSeen = 0
    private var checkedHeader = false
    /// The error the load ended with; every later call reports it again.
    private var failure: Error?
    /// True when the script does not start with Backstream's header (allowed only for `.anyScript`).
    package private(set) var isForeign = false
    /// What the writer recorded about the source database at backup time, when it did.
    package private(set) var sourceChecks: SourceChecks?
    /// Statements run so far (complete once `finish` returned).
    package var statements: Int { executor.statements }
    package var rowsInserted: Int64 { executor.rowsInserted }
    /// The completion line, when the script carried one.
    package private(set) var trailer: String?
    package var header: DumpHeader { DumpHeader(lines: headerLines) }
    /// Set before the first write: the SQLite thread reads it from then on.
    package var cancellation: Cancellation? {
        didSet { executor.cancellation = cancellation }
    }

    /// Bounds of the header kept in memory (it has a line per table): a hostile object with
    /// millions of header lines would otherwise hold them all and have each table counted again.
    static let maxHeaderLines = 200_000
    static let maxHeaderBytes = 16 << 20

    /// The default bound of one statement: rows with values of up to about 30 MiB of BLOB.
    package static let defaultMaxStatementBytes = 64 << 20

    /// Opens (creating) the database at `databasePath`, tuned for a one-shot bulk load: the
    /// caller loads into a fresh file and discards it on failure, so no journal is kept.
    /// A symbolic link at `databasePath` is refused.
    package init(databasePath: String, name: String, accepts: Source = .backstream,
                maxStatementBytes: Int = ScriptLoader.defaultMaxStatementBytes) throws {
        pipeline = LoadPipeline(executor: try LoadExecutor(databasePath: databasePath, name: name))
        self.name = name
        self.accepts = accepts
        self.maxStatementBytes = max(1 << 16, maxStatementBytes)
    }

    deinit {
        // A loader dropped mid-stream still ends its SQLite thread.
        pipeline.stop(PipelineMisuse(call: "deinit"))
        pending.free()
        scratch.free()
    }

    package func write(_ chunk: Chunk) throws {
        defer { chunk.recycle() }
        try feed(chunk.bytes)
    }

    /// Loads bytes the caller keeps ownership of.
    package func feed(_ bytes: UnsafeRawBufferPointer) throws {
        if let failure { throw failure }
        do {
            // A statement that failed on the SQLite thread ends the load at the next chunk.
            if let error = pipeline.error { throw error }
            try parse(bytes)
        } catch {
            throw settle(error)
        }
    }

    package func finish() throws {
        if let failure { throw failure }
        do {
            guard bytesSeen > 0 else { throw DumpFormat.emptyScript(name) }
            if !checkedHeader { try checkHeader(final: true) }
            try drain(final: true)
            try flush()
        } catch {
            throw settle(error)
        }
        do {
            try pipeline.finish()
            try executor.commit()
        } catch {
            failure = error
            throw error
        }
    }

    package func abort(_ error: Error) {
        if failure == nil { failure = error }
        pipeline.stop(error)
        executor.rollback()
    }

    /// Ends the load after `error` on the parsing side. Statements parsed before it still run
    /// first (a few batches at most), so a failure of an earlier statement is the one reported,
    /// as in a sequential load; a cancellation stops at once.
    private func settle(_ error: Error) -> Error {
        if let failure { return failure }
        if (error as? DumpError)?.code == .cancelled {
            pipeline.stop(error)
        } else {
            if let batch, batch.buffer.count > 0 {
                self.batch = nil
                try? pipeline.submit(batch)
            }
            try? pipeline.finish()
        }
        let settled = pipeline.error ?? error
        failure = settled
        return settled
    }

    private func parse(_ bytes: UnsafeRawBufferPointer) throws {
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

    // MARK: statement loop

    private func drain(final: Bool) throws {
        if !final && pending.count < retryAt { return }
        retryAt = 0
        while true {
            line += pending.skipWhitespace()
            if pending.isEmpty { return }
            let p = pending.readPointer.assumingMemoryBound(to: UInt8.self)
            let n = pending.count
            switch StatementScanner.commentLine(p, n, final: final) {
            case .incomplete:
                waitForMore()
                return
            case .line(let length, let consumed):
                try record(comment: String(decoding: UnsafeRawBufferPointer(start: p, count: length), as: UTF8.self))
                pending.consume(consumed)
                if consumed > length { line += 1 }
                continue
            case .notComment:
                break
            }
            if n >= 12 && memcmp(p, InsertParser.insertInto, 12) == 0 {
                switch try insert(p, n) {
                case .done(let length, _):
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
            try emitExecute(UnsafeRawBufferPointer(start: p, count: length))
            consume(length)
        }
    }

    /// Parses the INSERT line at `p` into the current batch: its prefix (defined once per
    /// table and column list), then the row.
    private func insert(_ p: UnsafePointer<UInt8>, _ n: Int) throws -> InsertParse {
        let (prefixLength, prefixParse) = InsertParser.prefix(p, n)
        guard case .done = prefixParse else { return prefixParse }
        let target = try currentBatch()
        let id = prefixID(UnsafeRawBufferPointer(start: p, count: prefixLength), in: target)
        // Written back before anything else can touch the batch (it grows by reallocating).
        var out = target.buffer
        let opStart = out.count
        out.put(LoadOp.insert.rawValue)
        out.put(id)
        let countAt = out.count
        out.put(UInt32(0))
        out.put(Int64(line))
        let parsed = InsertParser.values(p, n, from: prefixLength, into: &out)
        guard case .done(_, let values) = parsed else {
            out.truncate(to: opStart)
            target.buffer = out
            return parsed
        }
        out.patch(UInt32(values), at: countAt)
        target.buffer = out
        seenStatement = true
        if target.isFull { try flush() }
        return parsed
    }

    /// The id the SQLite thread knows `prefix` by; a new one is defined in `batch` first.
    /// A script names each table's prefix once, its rows together, so a few ids suffice: past
    /// `maxPrefixes` (or `maxPrefixBytes`) they are reused from 0, which bounds the prepared
    /// statements a hostile script could make the SQLite thread cache (one per column list).
    private func prefixID(_ prefix: UnsafeRawBufferPointer, in batch: LoadBatch) -> UInt32 {
        if lastPrefix.count == prefix.count, lastPrefix.withUnsafeBytes({ $0.elementsEqual(prefix) }) { return lastPrefixID }
        let key = Array(prefix)
        let id: UInt32
        if let known = prefixIDs[key] {
            id = known
        } else {
            if prefixIDs.count == Self.maxPrefixes || prefixBytes + key.count > Self.maxPrefixBytes {
                prefixIDs.removeAll()
                prefixBytes = 0
            }
            id = UInt32(prefixIDs.count)
            prefixIDs[key] = id
            prefixBytes += key.count
            batch.buffer.put(LoadOp.define.rawValue)
            batch.buffer.put(id)
            batch.buffer.put(UInt32(prefix.count))
            batch.buffer.append(prefix)
        }
        lastPrefix = key
        lastPrefixID = id
        return id
    }

    /// Hands one statement to SQLite's parser on the SQLite thread.
    private func emitExecute(_ sql: UnsafeRawBufferPointer) throws {
        if StatementKind.firstKeyword(sql) != nil { seenStatement = true }
        let target = try currentBatch()
        target.buffer.put(LoadOp.execute.rawValue)
        target.buffer.put(Int64(line))
        target.buffer.put(UInt32(sql.count))
        target.buffer.append(sql)
        if target.isFull { try flush() }
    }

    private func currentBatch() throws -> LoadBatch {
        if let batch { return batch }
        let fresh = try pipeline.emptyBatch()
        batch = fresh
        return fresh
    }

    private func flush() throws {
        guard let batch, batch.buffer.count > 0 else { return }
        self.batch = nil
        try pipeline.submit(batch)
    }

    /// A Backstream script starts with its header line; anything else is foreign.
    private func checkHeader(final: Bool) throws {
        let expected = DumpFormat.headerFirstLine.utf8
        guard pending.count >= expected.count || final else { return }
        checkedHeader = true
        let head = UnsafeRawBufferPointer(start: pending.readPointer, count: min(pending.count, expected.count))
        isForeign = try DumpFormat.checkHeader(head, name: name, accepts: accepts)
    }

    private func record(comment: String) throws {
        if comment.hasPrefix(DumpFormat.trailerPrefix) {
            trailer = comment
        } else if comment.hasPrefix(SourceChecks.prefix) {
            sourceChecks = SourceChecks(line: comment)
        } else if !seenStatement && !isForeign {
            headerBytes += comment.utf8.count
            guard headerLines.count < Self.maxHeaderLines, headerBytes <= Self.maxHeaderBytes else {
                throw DumpError(.invalidScript, "\(name): the header runs past \(Self.maxHeaderLines) lines or \(Self.maxHeaderBytes >> 20) MiB "
                                + "before the first statement, where Backstream writes one line per table; the backup is damaged or not Backstream's")
            }
            headerLines.append(comment)
        }
    }
}
