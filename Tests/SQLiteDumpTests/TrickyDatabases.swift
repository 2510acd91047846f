import Foundation
import TestSupport

/// The corpus of databases that break naive dumpers, one per feature the dump must keep.
enum TrickyDatabases {
    struct Case: Sendable, CustomStringConvertible {
        let name: String
        let build: @Sendable (TestDatabase) throws -> Void
        var description: String { name }
    }

    static let all: [Case] = [
        Case(name: "integers") { db in
            try db.execute("CREATE TABLE t(v INTEGER, a);")
            for v: Int64 in [0, 1, -1, .max, .min, .max - 1, .min + 1, 9_007_199_254_740_993, -9_007_199_254_740_993, 100, 1_000_000] {
                _ = try db.query("INSERT INTO t VALUES(?1, ?1)", [.integer(v)])
            }
        },
        Case(name: "reals") { db in
            try db.execute("CREATE TABLE t(a REAL, b, c NUMERIC);")
            var values: [Double] = [0.0, -0.0, 0.1, 1.0 / 3.0, .infinity, -.infinity, .greatestFiniteMagnitude,
                                    -.greatestFiniteMagnitude, .leastNonzeroMagnitude, .leastNormalMagnitude,
                                    -.leastNonzeroMagnitude, 1e-300, Double(sign: .plus, exponent: -1030, significand: 1.25), 123456789.125, 1e16, 1e22, 0.30000000000000004,
                                    4.387730701199369e-300, -6.606048250621399e-307, 5.693085770850273e-308, 1.5, 2.0]
            var generator = SplitMix64(seed: 42)
            for _ in 0..<2000 {
                let d = Double(bitPattern: generator.next())
                if d.isFinite { values.append(d) }
            }
            for _ in 0..<500 { values.append(Double(bitPattern: generator.next() & 0x0030_FFFF_FFFF_FFFF)) }
            for v in values {
                _ = try db.query("INSERT INTO t VALUES(?1, ?1, ?1)", [.real(v.bitPattern)])
            }
        },
        Case(name: "texts") { db in
            try db.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT, w);")
            let texts: [[UInt8]] = [
                [], Array("plain".utf8), Array("it's \"quoted\" ''".utf8), Array("line1\nline2\r\nline3\r".utf8),
                Array("tab\there".utf8), [0x61, 0x00, 0x62], [0x00], Array("ctrl\u{01}\u{1F}\u{7F}".utf8),
                [0xFF, 0xFE, 0x41], [0xC3], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80],
                Array("café 日本語 🎉 \u{2028} \u{FEFF}".utf8), Array(String(repeating: "x'y", count: 50_000).utf8),
                Array("-- not a comment; DROP TABLE t;".utf8), Array("' || 1 || '".utf8),
            ]
            for text in texts {
                _ = try db.query("INSERT INTO t(v, w) VALUES(?1, ?1)", [.text(text)])
            }
        },
        Case(name: "blobs") { db in
            try db.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, b BLOB, c TEXT, d INTEGER);")
            var generator = SplitMix64(seed: 7)
            let big = (0..<3_000_000).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            for blob in [[UInt8](), [0], [0x27, 0x00, 0xFF], Array("text in a blob".utf8), big] {
                _ = try db.query("INSERT INTO t(b, c, d) VALUES(?1, ?1, ?1)", [.blob(blob)])
            }
            let hugeText = Array(String(repeating: "ünïcødé 🎉 'q' ", count: 20_000).utf8)
            _ = try db.query("INSERT INTO t(b, c) VALUES(NULL, ?1)", [.text(hugeText)])
        },
        Case(name: "storage-classes") { db in
            try db.execute("""
                CREATE TABLE loose(a, b TEXT, c INTEGER, d REAL, e NUMERIC, f BLOB);
                INSERT INTO loose VALUES('1', '1', '1', '1', '1', '1');
                INSERT INTO loose VALUES(1, 1, 1, 1, 1, 1);
                INSERT INTO loose VALUES(1.0, 1.0, 1.0, 1.0, 1.0, 1.0);
                INSERT INTO loose VALUES('abc', 'abc', 'abc', 'abc', 'abc', 'abc');
                INSERT INTO loose VALUES(x'31', x'31', x'31', x'31', x'31', x'31');
                INSERT INTO loose VALUES(NULL, NULL, NULL, NULL, NULL, NULL);
                INSERT INTO loose VALUES(' 1', '1e3', '1e3', '1e400', '0x10', '2.50');
                CREATE TABLE strict_t(i INTEGER, r REAL, t TEXT, b BLOB, a ANY) STRICT;
                INSERT INTO strict_t VALUES(1, 1.5, 'x', x'00', '1');
                INSERT INTO strict_t VALUES(2, 2, '2', x'', 1);
                INSERT INTO strict_t VALUES(NULL, NULL, NULL, NULL, 1.0);
                """)
        },
        Case(name: "quoted-names") { db in
            try db.execute(#"""
                CREATE TABLE "select"("order" INTEGER PRIMARY KEY, "group" TEXT, "with space" TEXT, "quo""te" TEXT, [br"acket] TEXT, `tick` TEXT);
                INSERT INTO "select" VALUES(1, 'a', 'b', 'c', 'd', 'e');
                CREATE TABLE "my table ""x"" 'y'"("naïve col" TEXT, "日本" INTEGER, "🎉" BLOB);
                INSERT INTO "my table ""x"" 'y'" VALUES('v', 2, x'01');
                CREATE TABLE "new
                line"(a);
                INSERT INTO "new
                line" VALUES(1);
                CREATE INDEX "idx ""q""" ON "select"("group", "with space");
                CREATE VIEW "view of ""select""" AS SELECT "group" FROM "select";
                """#)
        },
        Case(name: "without-rowid") { db in
            try db.execute("""
                CREATE TABLE kv(k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID;
                INSERT INTO kv VALUES('b', x'02'), ('a', x'01'), ('c', NULL);
                CREATE TABLE composite(a INTEGER, b TEXT, c REAL, PRIMARY KEY(b DESC, a)) WITHOUT ROWID;
                INSERT INTO composite VALUES(1, 'x', 1.5), (2, 'x', 2.5), (1, 'y', NULL);
                """)
        },
        Case(name: "autoincrement") { db in
            try db.execute("""
                CREATE TABLE events(id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT);
                INSERT INTO events(name) VALUES('a'), ('b'), ('c'), ('d');
                DELETE FROM events WHERE id >= 3;
                CREATE TABLE other(id INTEGER PRIMARY KEY AUTOINCREMENT, x);
                INSERT INTO other(x) VALUES(1);
                UPDATE sqlite_sequence SET seq = 1000 WHERE name = 'other';
                """)
        },
        Case(name: "rowids") { db in
            try db.execute("""
                CREATE TABLE plain(a TEXT, b INTEGER);
                INSERT INTO plain(rowid, a, b) VALUES(5, 'five', 5), (17, 'seventeen', 17), (-3, 'minus', -3), (9223372036854775807, 'max', 0);
                CREATE TABLE textpk(code TEXT PRIMARY KEY, v);
                INSERT INTO textpk(rowid, code, v) VALUES(100, 'x', 1), (7, 'y', 2);
                CREATE TABLE desc_pk(id INTEGER PRIMARY KEY DESC, v);
                INSERT INTO desc_pk(rowid, id, v) VALUES(50, 1, 'rowid differs from id');
                CREATE TABLE shadowed(rowid TEXT, v);
                INSERT INTO shadowed(_rowid_, rowid, v) VALUES(42, 'not the rowid', 1);
                CREATE TABLE ipk(id INTEGER PRIMARY KEY, v);
                INSERT INTO ipk VALUES(10, 'a'), (3, 'b');
                """)
        },
        Case(name: "implicit-rowids") { db in
            // Rowids the dump leaves out (each one past the largest so far) mixed with ones it
            // must keep: after a gap, below 1, and next to a generated column.
            try db.execute("""
                CREATE TABLE dense(a TEXT, b);
                INSERT INTO dense(rowid, a, b) VALUES(1, 'one', 1), (2, 'two', 2), (3, 'three', 3), (10, 'gap', 4), (11, 'after', 5);
                CREATE TABLE negative(a);
                INSERT INTO negative(rowid, a) VALUES(-5, 'first'), (-4, 'next'), (1, 'one'), (2, 'two');
                CREATE TABLE computed(a INTEGER, twice INTEGER GENERATED ALWAYS AS (a * 2) STORED, c);
                INSERT INTO computed(rowid, a, c) VALUES(1, 1, 'x'), (2, 2, 'y'), (4, 4, 'z');
                """)
        },
        Case(name: "generated-columns") { db in
            try db.execute("""
                CREATE TABLE g(a INTEGER, b INTEGER, total INTEGER GENERATED ALWAYS AS (a + b) VIRTUAL,
                               label TEXT GENERATED ALWAYS AS ('n=' || (a * b)) STORED, c TEXT);
                INSERT INTO g(a, b, c) VALUES(1, 2, 'x'), (3, 4, NULL);
                CREATE INDEX g_total ON g(total);
                """)
        },
        Case(name: "constraints") { db in
            try db.execute("""
                CREATE TABLE c(id INTEGER PRIMARY KEY, name TEXT NOT NULL COLLATE NOCASE DEFAULT 'anon',
                               age INTEGER CHECK (age >= 0) DEFAULT 0, created TEXT DEFAULT (datetime('now')),
                               email TEXT UNIQUE, CONSTRAINT named_check CHECK (length(name) < 100));
                INSERT INTO c(id, name, age, created, email) VALUES(1, 'Bob', 3, '2024-01-01', 'b@x');
                INSERT INTO c(id, created) VALUES(2, '2024-01-02');
                CREATE INDEX c_partial ON c(age) WHERE age > 1;
                CREATE INDEX c_expr ON c(lower(name), age * 2);
                CREATE UNIQUE INDEX c_unique ON c(name COLLATE BINARY, email);
                """)
        },
        Case(name: "views-and-triggers") { db in
            try db.execute("""
                CREATE TABLE items(id INTEGER PRIMARY KEY, price REAL, qty INTEGER);
                CREATE TABLE audit(id INTEGER PRIMARY KEY, item INTEGER, note TEXT);
                INSERT INTO items VALUES(1, 9.99, 2), (2, 0.5, 10);
                INSERT INTO audit VALUES(1, 1, 'seed');
                CREATE VIEW totals AS SELECT id, price * qty AS total FROM items;
                CREATE VIEW big_totals AS SELECT * FROM totals WHERE total > 5;
                CREATE VIEW biggest AS SELECT max(total) AS m FROM big_totals;
                CREATE TRIGGER items_ai AFTER INSERT ON items BEGIN
                    INSERT INTO audit(item, note) VALUES(new.id, 'inserted; ok');
                END;
                CREATE TRIGGER totals_io INSTEAD OF DELETE ON totals BEGIN DELETE FROM items WHERE id = old.id; END;
                """)
        },
        Case(name: "foreign-keys") { db in
            try db.execute("""
                PRAGMA foreign_keys=ON;
                CREATE TABLE child(id INTEGER PRIMARY KEY, parent INTEGER REFERENCES parent(id), note TEXT);
                CREATE TABLE parent(id INTEGER PRIMARY KEY, boss INTEGER REFERENCES parent(id), partner INTEGER REFERENCES cyc_b(id));
                CREATE TABLE cyc_b(id INTEGER PRIMARY KEY, back INTEGER REFERENCES parent(id));
                INSERT INTO parent VALUES(1, NULL, NULL);
                INSERT INTO parent VALUES(2, 1, NULL);
                INSERT INTO cyc_b VALUES(1, 2);
                UPDATE parent SET partner = 1 WHERE id = 1;
                INSERT INTO child VALUES(1, 2, 'x');
                """)
        },
        Case(name: "stat1") { db in
            try db.execute("""
                CREATE TABLE s(a INTEGER, b TEXT);
                CREATE INDEX s_a ON s(a);
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200) INSERT INTO s SELECT i % 7, 'v' || i FROM n;
                ANALYZE;
                """)
        },
        Case(name: "fts5") { db in
            try db.execute("""
                CREATE VIRTUAL TABLE docs USING fts5(title, body, tokenize = 'porter unicode61');
                INSERT INTO docs(rowid, title, body) VALUES(10, 'Backups', 'streaming backups to object storage'),
                    (20, 'Restore', 'restoring a database quickly'), (35, 'Ünïcode', 'naïve café résumé');
                CREATE TABLE articles(id INTEGER PRIMARY KEY, title TEXT, body TEXT);
                INSERT INTO articles VALUES(1, 'alpha', 'the quick brown fox'), (2, 'beta', 'jumps over the lazy dog');
                CREATE VIRTUAL TABLE articles_fts USING fts5(title, body, content='articles', content_rowid='id');
                INSERT INTO articles_fts(articles_fts) VALUES('rebuild');
                """)
        },
        Case(name: "rtree") { db in
            try db.execute("""
                CREATE VIRTUAL TABLE boxes USING rtree(id, minX, maxX, minY, maxY);
                INSERT INTO boxes VALUES(1, 0, 10, 0, 10), (2, 5.5, 7.25, -3, 3), (7, -100, 100, 1e-3, 2e-3);
                """)
        },
        Case(name: "header-pragmas") { db in
            try db.execute("""
                PRAGMA user_version = 20241115;
                PRAGMA application_id = 1145258561;
                CREATE TABLE t(a);
                INSERT INTO t VALUES(1);
                """)
        },
        Case(name: "empty") { db in
            try db.execute("CREATE TABLE vacant(a); CREATE TABLE vacant_too(b TEXT);")
        },
    ]
}

/// A small deterministic generator so the corpus is the same on every run.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
