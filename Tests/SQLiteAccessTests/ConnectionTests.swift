import Foundation
import SQLiteAccess
import Testing
import TestSupport

@Suite("SQLite access")
struct ConnectionTests {
    @Test("a file that is not a database fails with notADatabase and names the path")
    func notADatabase() throws {
        let dir = try TemporaryDirectory("sqlite-access")
        defer { dir.remove() }
        let path = dir.file("text.db")
        try Data(repeating: 0x41, count: 4096).write(to: URL(fileURLWithPath: path))
        let connection = try Connection(path: path, readOnly: true)
        #expect {
            _ = try connection.scalarInt("SELECT count(*) FROM sqlite_schema")
        } throws: { error in
            guard let error = error as? SQLiteError else { return false }
            return error.code == .notADatabase && error.path == path && error.message.contains(path)
        }
    }

    @Test("a missing file opened read-only fails with cannotOpen and is not created")
    func missingReadOnly() throws {
        let dir = try TemporaryDirectory("sqlite-access")
        defer { dir.remove() }
        let path = dir.file("missing.db")
        #expect { _ = try Connection(path: path, readOnly: true) } throws: { error in
            (error as? SQLiteError)?.code == .cannotOpen
        }
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test("quoted names and literals round-trip through SQLite, whatever they contain")
    func quoting() throws {
        let dir = try TemporaryDirectory("sqlite-access")
        defer { dir.remove() }
        let db = try Connection(path: dir.file("q.db"), readOnly: false)
        let name = "we\"ird 'name'\n;--"
        try db.execute("CREATE TABLE \(SQLIdentifier.quote(name)) (v)")
        try db.execute("INSERT INTO \(SQLIdentifier.quote(name)) VALUES (\(SQLIdentifier.literal(name)))")
        let stmt = try db.prepare("SELECT name FROM sqlite_schema")
        #expect(try stmt.step() && stmt.string(0) == name)
        let value = try db.prepare("SELECT v FROM \(SQLIdentifier.quote(name))")
        #expect(try value.step() && value.string(0) == name)
    }

    @Test("a hardened connection cannot ATTACH another file")
    func hardened() throws {
        let dir = try TemporaryDirectory("sqlite-access")
        defer { dir.remove() }
        let db = try Connection(path: dir.file("h.db"), readOnly: false)
        try db.harden()
        let other = dir.file("other.db")
        #expect(throws: SQLiteError.self) { try db.execute("ATTACH \(SQLIdentifier.literal(other)) AS x") }
        #expect(!FileManager.default.fileExists(atPath: other))
    }
}
