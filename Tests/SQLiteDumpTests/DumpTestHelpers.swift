import ChunkIO
import Foundation
import SQLiteDump
import TestSupport

/// Dumps `source` to a file with the library API and returns the script's bytes.
func dumpToFile(_ source: String, _ target: String, dialect: Dialect = .sqlite, chunkSize: Int = 1 << 20) throws -> (DumpSummary, [UInt8]) {
    var options = DumpOptions()
    options.dialect = dialect
    options.chunkSize = chunkSize
    let sink = try FileSink.atomicFile(at: target)
    let summary = try Dumper(databasePath: source, options: options).run(into: sink)
    return (summary, [UInt8](try Data(contentsOf: URL(fileURLWithPath: target))))
}

/// Restores a script with the real `sqlite3` shell, stopping at the first error.
func restoreWithSQLite3(_ script: String, into database: String) throws -> ProcessResult {
    try ProcessRunner.run(["sqlite3", "-bail", database], stdinFile: script)
}

/// Dumps a database built by `sql` and returns the script as text.
func dumpText(of sql: String, dialect: Dialect = .sqlite) throws -> String {
    let dir = try TemporaryDirectory("dumptext")
    defer { dir.remove() }
    let source = dir.file("s.db")
    try TestDatabase(source).execute(sql)
    let (_, bytes) = try dumpToFile(source, dir.file("d.sql"), dialect: dialect)
    return String(decoding: bytes, as: UTF8.self)
}
