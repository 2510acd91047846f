import ChunkIO
import Dispatch
import Foundation
import SQLiteDump
import Testing
import TestSupport

/// Holds the first chunk until the test has written from another connection, then writes all.
private final class GatedSink: ChunkSink, @unchecked Sendable {
    let target: FileSink
    let reachedGate = DispatchSemaphore(value: 0)
    let release = DispatchSemaphore(value: 0)
    private var first = true
    init(_ target: FileSink) { self.target = target }
    func write(_ chunk: Chunk) throws {
        if first {
            first = false
            reachedGate.signal()
            release.wait()
        }
        try target.write(chunk)
    }
    func finish() throws { try target.finish() }
    func abort(_ error: Error) { target.abort(error) }
}

@Suite("Consistent snapshot")
struct SnapshotTests {
    @Test("writes committed during a dump never reach it", arguments: ["WAL", "DELETE"])
    func snapshot(journalMode: String) throws {
        let dir = try TemporaryDirectory("snapshot")
        defer { dir.remove() }
        let source = dir.file("live.db")
        let setup = try TestDatabase(source)
        try setup.execute("""
            PRAGMA journal_mode=\(journalMode);
            CREATE TABLE parent(id INTEGER PRIMARY KEY, name TEXT);
            CREATE TABLE child(id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id), v BLOB);
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
            INSERT INTO parent SELECT i, 'p' || i FROM n;
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
            INSERT INTO child SELECT i, i, randomblob(100) FROM n;
            """)
        let before = try setup.scalarInt("SELECT count(*) FROM child")

        var options = DumpOptions()
        options.chunkSize = 64 * 1024
        options.bufferCount = 2
        let sink = GatedSink(try FileSink.atomicFile(at: dir.file("dump.sql")))
        let dumper = try Dumper(databasePath: source, options: options)
        let done = DispatchSemaphore(value: 0)
        let box = ResultBox()
        Thread.detachNewThread {
            do { box.summary = try dumper.run(into: sink) } catch { box.error = "\(error)" }
            done.signal()
        }
        sink.reachedGate.wait()

        // Another connection writes parents and children while the dump is paused mid-way.
        let writer = try TestDatabase(source)
        try writer.execute("PRAGMA busy_timeout=100")
        var committed = false
        do {
            try writer.execute("""
                BEGIN IMMEDIATE;
                INSERT INTO parent VALUES(100000, 'late');
                INSERT INTO child VALUES(100000, 100000, x'00');
                DELETE FROM child WHERE id <= 10;
                COMMIT;
                """)
            committed = true
        } catch {
            // Rollback-journal mode: the dump's shared lock keeps the writer from committing.
            try? writer.execute("ROLLBACK")
        }
        #expect(committed == (journalMode == "WAL"), "WAL lets the writer commit beside the reader")
        sink.release.signal()
        done.wait()
        #expect(box.error == nil, "\(box.error ?? "")")
        #expect(box.summary?.rows == 3000 + before)

        let restored = dir.file("restored.db")
        #expect(try restoreWithSQLite3(dir.file("dump.sql"), into: restored).status == 0)
        let copy = try TestDatabase(restored, readOnly: true)
        #expect(try copy.scalarInt("SELECT count(*) FROM child") == before)
        #expect(try copy.scalarInt("SELECT count(*) FROM parent WHERE id = 100000") == 0)
        #expect(try copy.scalarInt("SELECT min(id) FROM child") == 1)
        #expect(try copy.query("PRAGMA foreign_key_check").isEmpty)
    }
}

private final class ResultBox: @unchecked Sendable {
    var summary: DumpSummary?
    var error: String?
}
