import Testing
import TestSupport

/// The round-trip tests are only as strong as the comparison: prove it sees small differences.
@Suite("Database comparison")
struct ComparisonSelfTests {
    @Test("notices a changed type, sign of zero, rowid, byte, pragma and sequence", arguments: [
        "UPDATE t SET a = '1' WHERE rowid = 1",
        "UPDATE t SET a = 0.0 WHERE rowid = 2",
        "UPDATE t SET rowid = 99 WHERE rowid = 3",
        "UPDATE t SET a = CAST(x'610063' AS TEXT) WHERE rowid = 4",
        "PRAGMA user_version = 7",
        "UPDATE sqlite_sequence SET seq = 50",
        "CREATE INDEX extra ON t(a)",
    ])
    func detects(_ change: String) throws {
        let dir = try TemporaryDirectory("compare")
        defer { dir.remove() }
        let setup = """
            CREATE TABLE t(a);
            INSERT INTO t(rowid, a) VALUES(1, 1), (2, -0.0), (3, 'x'), (4, CAST(x'610062' AS TEXT));
            CREATE TABLE s(id INTEGER PRIMARY KEY AUTOINCREMENT);
            INSERT INTO s DEFAULT VALUES;
            """
        try TestDatabase(dir.file("a.db")).execute(setup)
        try TestDatabase(dir.file("b.db")).execute(setup)
        #expect(try DatabaseComparison.differences(dir.file("a.db"), dir.file("b.db")).isEmpty)
        try TestDatabase(dir.file("b.db")).execute(change)
        #expect(!(try DatabaseComparison.differences(dir.file("a.db"), dir.file("b.db")).isEmpty))
    }
}
