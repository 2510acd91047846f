import Backup
import Compression
import Foundation
import SQLiteDump
import Support
import Testing
import TestSupport

@Suite("dump job, in process")
struct DumpJobTests {
    private static func options(output: String, gzip: Bool) -> DumpJob.Options {
        var options = DumpJob.Options()
        options.outputPath = output
        options.compression = gzip ? .gzip : .none
        options.threads = 1
        return options
    }

    /// Every file in the folder: a failed dump must leave neither its output nor a temporary.
    private static func files(in dir: TemporaryDirectory) throws -> Set<String> {
        Set(try FileManager.default.contentsOfDirectory(atPath: dir.path))
    }

    @Test("gzip to a file: the real gunzip and sqlite3 restore it to the same database, and the outcome describes it")
    func gzipFile() throws {
        let fixture = try JobFixture("job-dump-gzip")
        defer { fixture.remove() }
        let output = fixture.dir.file("out.sql.gz")
        let outcome = try DumpJob.run(databasePath: fixture.database, options: Self.options(output: output, gzip: true))

        let size = try #require(try FileManager.default.attributesOfItem(atPath: output)[.size] as? Int)
        #expect(outcome.bytesWritten == size)
        #expect(outcome.summary.tables == 11)
        #expect(outcome.summary.rows == (try fixture.rowCount()))
        let restored = fixture.dir.file("restored.db")
        let load = try ProcessRunner.shell("gunzip -c '\(output)' | sqlite3 -bail '\(restored)'")
        #expect(load.status == 0, "\(load.stderrText)")
        #expect(try DatabaseComparison.differences(fixture.database, restored).isEmpty)
        // The SQL text's length and CRC-32 as the outcome reports them, computed by Python's zlib.
        let text = try ProcessRunner.shell(
            "gunzip -c '\(output)' | python3 -c 'import sys, zlib; d = sys.stdin.buffer.read(); print(len(d), zlib.crc32(d))'")
        #expect(text.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == "\(outcome.summary.bytes) \(outcome.contentCRC32 ?? 0)")
        #expect(outcome.contentCRC32 != nil)
        #expect(try Self.files(in: fixture.dir) == ["source.db", "out.sql.gz", "restored.db"])
    }

    @Test("plain to a file: sqlite3 loads it to the same database; the file is the SQL text, byte for byte what the summary counts")
    func plainFile() throws {
        let fixture = try JobFixture("job-dump-plain")
        defer { fixture.remove() }
        let output = fixture.dir.file("out.sql")
        let outcome = try DumpJob.run(databasePath: fixture.database, options: Self.options(output: output, gzip: false))

        let text = try Data(contentsOf: URL(fileURLWithPath: output))
        #expect(outcome.bytesWritten == text.count)
        #expect(Int64(text.count) == outcome.summary.bytes)
        #expect(outcome.contentCRC32 == nil)
        #expect(text.starts(with: Data("-- ".utf8)))
        let restored = fixture.dir.file("restored.db")
        let load = try ProcessRunner.run(["sqlite3", "-bail", restored], stdinFile: output)
        #expect(load.status == 0, "\(load.stderrText)")
        #expect(try DatabaseComparison.differences(fixture.database, restored).isEmpty)
        // Uncompressed and compressed dumps of one snapshot carry the same SQL apart from the header's time.
        var gzipOptions = Self.options(output: fixture.dir.file("same.sql.gz"), gzip: true)
        gzipOptions.dump.timestamp = outcome.summary.timestamp
        gzipOptions.level = 1
        _ = try DumpJob.run(databasePath: fixture.database, options: gzipOptions)
        var plainAgain = Self.options(output: fixture.dir.file("again.sql"), gzip: false)
        plainAgain.dump.timestamp = outcome.summary.timestamp
        _ = try DumpJob.run(databasePath: fixture.database, options: plainAgain)
        let same = try ProcessRunner.shell("gunzip -c '\(fixture.dir.file("same.sql.gz"))' | cmp - '\(fixture.dir.file("again.sql"))'")
        #expect(same.status == 0, "\(same.stdoutText)\(same.stderrText)")
    }

    @Test("a missing database, a cancelled dump and a refused gzip level leave no file, and an existing output untouched")
    func failureLeavesNoFile() throws {
        let fixture = try JobFixture("job-dump-failure")
        defer { fixture.remove() }
        let before = try Self.files(in: fixture.dir)

        expectError({ _ = try DumpJob.run(databasePath: fixture.dir.file("absent.db"),
                                          options: Self.options(output: fixture.dir.file("a.sql.gz"), gzip: true)) },
                    where: { ($0 as? DumpError)?.code == .fileNotFound })
        #expect(try Self.files(in: fixture.dir) == before)

        for gzip in [true, false] {
            var cancelled = Self.options(output: fixture.dir.file("c.sql"), gzip: gzip)
            let cancellation = Cancellation()
            cancellation.cancel()
            cancelled.dump.cancellation = cancellation
            expectError({ _ = try DumpJob.run(databasePath: fixture.database, options: cancelled) },
                        where: { $0 is CancelledError || ($0 as? DumpError)?.code == .cancelled })
            #expect(try Self.files(in: fixture.dir) == before, "gzip: \(gzip)")
        }

        // The compressor refuses the level after the output file was opened: it must be removed.
        var badLevel = Self.options(output: fixture.dir.file("l.sql.gz"), gzip: true)
        badLevel.level = 13
        expectError({ _ = try DumpJob.run(databasePath: fixture.database, options: badLevel) },
                    where: { "\($0)".contains("level 13 is out of range") })
        #expect(try Self.files(in: fixture.dir) == before)

        // A failed dump over an existing file keeps the old file whole: it is replaced only by a rename.
        let existing = fixture.dir.file("keep.sql.gz")
        #expect(FileManager.default.createFile(atPath: existing, contents: Data("previous dump".utf8)))
        badLevel.outputPath = existing
        expectError({ _ = try DumpJob.run(databasePath: fixture.database, options: badLevel) },
                    where: { "\($0)".contains("level 13 is out of range") })
        #expect(try Data(contentsOf: URL(fileURLWithPath: existing)) == Data("previous dump".utf8))
        #expect(try Self.files(in: fixture.dir) == before.union(["keep.sql.gz"]))
    }
}
