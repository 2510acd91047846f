/// Which importer the script is written for.
package enum Dialect: String, Sendable, CaseIterable {
    /// The `sqlite3` CLI (and Backstream's own loader): one transaction, every object, every pragma.
    case sqlite
    /// Cloudflare D1 (`wrangler d1 execute --file`): no BEGIN/COMMIT/SAVEPOINT, deferred foreign
    /// keys, no writable_schema or header pragmas, `_cf_*` tables skipped, statements ≤ 100,000 bytes.
    case d1

    /// The longest statement the importer accepts; longer rows are split into INSERT + UPDATEs.
    var statementLimit: Int? { self == .d1 ? 100_000 : nil }
}
