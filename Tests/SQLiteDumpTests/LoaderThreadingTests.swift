import ChunkIO
import Foundation
import SQLiteDump
import Support
import Testing
import TestSupport

/// The loader parses on the caller's thread and runs SQLite on its own: these check that a
/// failure on either side ends the load promptly, that the first failing statement in script
/// order is the one reported, and that rows larger than a hand-over batch arrive whole.
@Suite("Script loader threads")
struct LoaderThreadingTests {
    static let header = "-- Backstream SQL dump\n-- format: 1\nPRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\n"

    /// Feeds `text` in 64 KiB pieces; returns how many bytes went in before the loader threw.
    static func feedUntilFailure(_ loader: ScriptLoader, _ text: [UInt8]) -> (fed: Int, error: Error?) {
        var offset = 0
        while offset < text.count {
            let end = min(text.count, offset + 65536)
            do {
                try text[offset..<end].withUnsafeBytes { try loader.feed($0) }
            } catch {
                return (offset, error)
            }
            offset = end
        }
        do { try loader.finish() } catch { return (offset, error) }
        return (offset, nil)
    }

    @Test("a row failing on the SQLite thread stops the parser within a few batches")
    func sqliteFailureStopsParser() throws {
        let dir = try TemporaryDirectory("loader-thread-fail")
        defer { dir.remove() }
        var script = Self.header + "CREATE TABLE t(x PRIMARY KEY, y);\nINSERT INTO \"t\" VALUES(1,'a');\nINSERT INTO \"t\" VALUES(1,'dup');\n"
        let row = "INSERT INTO \"t\" VALUES(2,'\(String(repeating: "x", count: 200))');\n"
        script += String(repeating: row, count: 100_000)
        let loader = try ScriptLoader(databasePath: dir.file("r.db"), name: "dup script")
        let (fed, error) = Self.feedUntilFailure(loader, Array(script.utf8))
        let message = "\(error.map { "\($0)" } ?? "no error")"
        #expect(message.contains("row 2 of dup script (line 7) failed to insert"), "\(message)")
        #expect(message.contains("UNIQUE"), "\(message)")
        // Four batches of 256 KiB are in flight at most: the parser stops long before the 20 MB end.
        #expect(fed < 4 << 20, "fed \(fed) of \(script.utf8.count) bytes before stopping")
        loader.abort(error ?? CancelledError())
    }

    @Test("an earlier failing statement is reported before a later parse error")
    func firstFailureInScriptOrder() throws {
        let dir = try TemporaryDirectory("loader-thread-order")
        defer { dir.remove() }
        let script = Self.header + "CREATE TABLE t(x);\nINSERT INTO \"missing\" VALUES(1);\nINSERT INTO \"t\" VALUES('never closed"
        let loader = try ScriptLoader(databasePath: dir.file("r.db"), name: "order script")
        let (_, error) = Self.feedUntilFailure(loader, Array(script.utf8))
        let message = "\(error.map { "\($0)" } ?? "no error")"
        #expect(message.contains("no such table: missing"), "\(message)")
        #expect(!message.contains("truncated"), "\(message)")
    }

    @Test("a parse error after many good rows is reported with its line")
    func parseErrorAfterRows() throws {
        let dir = try TemporaryDirectory("loader-thread-parse")
        defer { dir.remove() }
        let rows = (1...50_000).map { "INSERT INTO \"t\" VALUES(\($0),X'00ff');\n" }.joined()
        let script = Self.header + "CREATE TABLE t(x, y);\n" + rows + "INSERT INTO \"t\" VALUES('never closed"
        let loader = try ScriptLoader(databasePath: dir.file("r.db"), name: "cut script")
        let (_, error) = Self.feedUntilFailure(loader, Array(script.utf8))
        let message = "\(error.map { "\($0)" } ?? "no error")"
        #expect(message.contains("cut script ends in the middle of the SQL statement at line 50006"), "\(message)")
        #expect(loader.rowsInserted == 50_000)
        loader.abort(error ?? CancelledError())
    }

    @Test("rows larger than a hand-over batch and many small ones load exactly", arguments: [3, 7777, 1 << 20])
    func largeRows(pieceSize: Int) throws {
        let dir = try TemporaryDirectory("loader-thread-large")
        defer { dir.remove() }
        let big = String(repeating: "0123456789abcdef", count: 1 << 16)
        var script = Self.header + "CREATE TABLE t(id INTEGER PRIMARY KEY, b BLOB, s TEXT);\n"
        for id in 1...3 { script += "INSERT INTO \"t\" VALUES(\(id),X'\(big)','it''s \(id)');\n" }
        script += (4...20_000).map { "INSERT INTO \"t\" VALUES(\($0),NULL,'');\n" }.joined()
        script += "COMMIT;\n-- Backstream dump complete: 1 tables, 20000 rows.\n"
        let loader = try load(Array(script.utf8), into: dir.file("r.db"), pieceSize: pieceSize)
        #expect(loader.rowsInserted == 20_000)
        #expect(loader.trailer != nil)
        let check = try ProcessRunner.run(["sqlite3", dir.file("r.db"),
                                           "SELECT count(*), sum(length(b)), group_concat(s, '|') FILTER (WHERE s <> ''), count(*) FILTER (WHERE s = '') FROM t"])
        #expect(check.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == "20000|1572864|it's 1|it's 2|it's 3|19997")
    }

    @Test("a cancelled load ends promptly with the stage named")
    func cancelled() throws {
        let dir = try TemporaryDirectory("loader-thread-cancel")
        defer { dir.remove() }
        let rows = (1...20_000).map { "INSERT INTO \"t\" VALUES(\($0));\n" }.joined()
        let loader = try ScriptLoader(databasePath: dir.file("r.db"), name: "cancel script")
        let cancellation = Cancellation()
        loader.cancellation = cancellation
        try Array((Self.header + "CREATE TABLE t(x);\n" + rows).utf8).withUnsafeBytes { try loader.feed($0) }
        cancellation.cancel()
        #expect {
            try Array(rows.utf8).withUnsafeBytes { try loader.feed($0) }
        } throws: { error in
            "\(error)".contains("interrupted while restoring cancel script")
        }
        loader.abort(CancelledError())
    }
}
