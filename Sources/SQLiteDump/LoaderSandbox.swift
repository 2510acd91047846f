import CSQLite
import SQLiteAccess

/// The SQLite authorizer a loading connection runs under: a backup object is untrusted input
/// (anyone with a bucket key can write one), so the script may do only what Backstream's writer
/// emits, against `main`: create tables, indexes, views, triggers and virtual tables of the
/// known modules, insert/update/delete rows, ANALYZE (and the REINDEX check CREATE INDEX makes), and the header's pragmas. Everything else,
/// ATTACH, DETACH, VACUUM, other pragmas, temp objects and the script's own transaction control
/// among it, is denied; the first denial is kept so the error can say what was refused.
final class LoaderSandbox {
    /// Set while the loader itself begins or commits its one transaction.
    var loaderOwnsTransaction = false
    private(set) var denial: String?

    /// Virtual-table modules a dump may create (those `SchemaPlan` can read back).
    static let modules: Set<String> = SchemaPlan.readableModules
    /// Pragmas a Backstream header writes; the loader swallows the speed-only ones before SQLite sees them.
    static let pragmas: Set<String> = ["foreign_keys", "encoding", "user_version", "application_id", "defer_foreign_keys"]
    /// Read-only pragmas the FTS5 and R-Tree modules run inside CREATE VIRTUAL TABLE.
    static let moduleQueries: Set<String> = ["data_version", "page_size"]
    /// Functions that reach outside the database or hand out C pointers.
    static let functions: Set<String> = ["load_extension", "fts3_tokenizer", "readfile", "writefile", "edit"]

    /// Installs the authorizer on `connection`; the sandbox must outlive the connection's use.
    func install(on connection: Connection) {
        sqlite3_set_authorizer(connection.handle, { context, action, a, b, database, _ in
            guard let context else { return SQLITE_DENY }
            let sandbox = Unmanaged<LoaderSandbox>.fromOpaque(context).takeUnretainedValue()
            return sandbox.decide(action, a.map { String(cString: $0) }, b.map { String(cString: $0) },
                                  database.map { String(cString: $0) })
        }, Unmanaged.passUnretained(self).toOpaque())
    }

    func remove(from connection: Connection) {
        sqlite3_set_authorizer(connection.handle, nil, nil)
    }

    /// Clears the last denial before the next statement.
    func reset() { denial = nil }

    private func decide(_ action: Int32, _ a: String?, _ b: String?, _ database: String?) -> Int32 {
        let onMain = database == nil || database == "main"
        switch action {
        case SQLITE_CREATE_TABLE, SQLITE_CREATE_INDEX, SQLITE_CREATE_VIEW, SQLITE_CREATE_TRIGGER,
             SQLITE_INSERT, SQLITE_UPDATE, SQLITE_DELETE, SQLITE_READ, SQLITE_ANALYZE, SQLITE_REINDEX:
            if onMain { return SQLITE_OK }
            return deny("access to the attached database \(database ?? "")")
        case SQLITE_SELECT:
            return SQLITE_OK
        case SQLITE_CREATE_VTABLE:
            if onMain, let module = b?.lowercased(), Self.modules.contains(module) { return SQLITE_OK }
            return deny("a virtual table of module \(b ?? "?")")
        case SQLITE_FUNCTION:
            if let name = b?.lowercased(), Self.functions.contains(name) { return deny("the function \(name)()") }
            return SQLITE_OK
        case SQLITE_PRAGMA:
            if onMain, let name = a?.lowercased(), Self.pragmas.contains(name) || (b == nil && Self.moduleQueries.contains(name)) {
                return SQLITE_OK
            }
            return deny("PRAGMA \(a ?? "?")")
        case SQLITE_TRANSACTION:
            if loaderOwnsTransaction { return SQLITE_OK }
            return deny("\(a ?? "transaction control") (the loader owns the transaction)")
        case SQLITE_SAVEPOINT: return deny("SAVEPOINT/RELEASE (the loader owns the transaction)")
        case SQLITE_ATTACH: return deny("ATTACH")
        case SQLITE_DETACH: return deny("DETACH")
        case SQLITE_RECURSIVE: return deny("a recursive query")
        case SQLITE_CREATE_TEMP_TABLE, SQLITE_CREATE_TEMP_INDEX, SQLITE_CREATE_TEMP_VIEW, SQLITE_CREATE_TEMP_TRIGGER:
            return deny("a TEMP object")
        case SQLITE_ALTER_TABLE: return deny("ALTER TABLE")
        default: return deny("a statement of kind \(action) (DROP, VACUUM or another the writer never emits)")
        }
    }

    private func deny(_ what: String) -> Int32 {
        if denial == nil { denial = what }
        return SQLITE_DENY
    }
}
