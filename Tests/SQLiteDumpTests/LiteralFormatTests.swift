import SQLiteDump
import Testing
import TestSupport

@Suite("Literal formatting")
struct LiteralFormatTests {
    @Test("values are written as exact SQL literals")
    func literals() throws {
        let text = try dumpText(of: """
            CREATE TABLE t(id INTEGER PRIMARY KEY, a);
            INSERT INTO t(a) VALUES(-0.0), (1e999), (-1e999), (0.1), (x''), (x'00FF'), (''), ('it''s'),
                (CAST(x'610062' AS TEXT)), (-9223372036854775808), (NULL), (5e-324), (2.0);
            """)
        let expected = ["1,-0.0", "2,1e999", "3,-1e999", "4,0.1", "5,X''", "6,X'00FF'", "7,''", "8,'it''s'",
                        "9,CAST(X'610062' AS TEXT)", "10,-9223372036854775808", "11,NULL",
                        // Subnormals are scaled by an exact power of two: SQLite's parser rounds them wrongly.
                        "12,(2.0501330894674953e-143*2.409919865102884e-181)", "13,2.0"]
        for values in expected {
            #expect(text.contains("INSERT INTO \"t\" VALUES(\(values));\n"), "missing \(values)")
        }
    }

    @Test("the header describes the snapshot and the trailer marks completion")
    func headerAndTrailer() throws {
        let text = try dumpText(of: "CREATE TABLE a(x); INSERT INTO a VALUES(1),(2); CREATE TABLE \"b\nc\"(y);")
        #expect(text.contains("-- tables: 2\n"))
        #expect(text.contains("-- rows: 2\n"))
        #expect(text.contains("-- table: 2 \"a\"\n"))
        #expect(text.contains("-- table: 0 \"b\\nc\"\n"))
        #expect(text.contains("BEGIN TRANSACTION;\n"))
        let checks = SourceChecks(foreignKeyViolations: 0, foreignKeyDigest: "cbf29ce484222325", integrityOK: true)
        #expect(text.hasSuffix("COMMIT;\n\(checks.line)\n\(DumpFormat.trailerPrefix) 2 tables, 2 rows.\n"))
    }

    @Test("the d1 dialect has no transaction control and splits long rows")
    func d1() throws {
        let text = try dumpText(of: """
            CREATE TABLE big(id INTEGER PRIMARY KEY, body TEXT, data BLOB);
            INSERT INTO big VALUES(1, printf('%.*c', 250000, 'x'), randomblob(120000));
            CREATE TABLE _cf_KV(k, v);
            """, dialect: .d1)
        #expect(!text.contains("BEGIN TRANSACTION"))
        #expect(!text.contains("COMMIT;"))
        #expect(!text.contains("_cf_KV"))
        #expect(text.contains("PRAGMA defer_foreign_keys=TRUE;"))
        #expect(text.contains("UPDATE \"big\" SET \"body\"=\"body\"||'xxx"))
        #expect(text.contains("UPDATE \"big\" SET \"data\"=CAST(\"data\"||X'"))
        #expect(SQLScript.d1Violations(Array(text.utf8)).isEmpty)
    }

    @Test("tables come after the tables they reference")
    func dependencyOrder() throws {
        let text = try dumpText(of: """
            CREATE TABLE c(id INTEGER PRIMARY KEY, b_id REFERENCES B(id));
            CREATE TABLE b(id INTEGER PRIMARY KEY, a_id REFERENCES a(id));
            CREATE TABLE a(id INTEGER PRIMARY KEY, self REFERENCES a(id));
            """)
        let positions = ["CREATE TABLE a", "CREATE TABLE b", "CREATE TABLE c"].map { text.range(of: $0)?.lowerBound }
        #expect(positions.allSatisfy { $0 != nil })
        if let a = positions[0], let b = positions[1], let c = positions[2] {
            #expect(a < b && b < c)
        }
    }
}
