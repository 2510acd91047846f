import Foundation

/// The first keyword of a statement decides whether the loader runs it: only the kinds a
/// Backstream script (or a plain `sqlite3 .dump`) holds get as far as SQLite's parser, where
/// `LoaderSandbox` checks them again object by object.
enum StatementKind {
    case allowed, ignored, refused

    static let runnable: Set<String> = ["create", "insert", "update", "delete", "analyze", "pragma"]
    /// The loader owns the transaction; these only mark where the script's own one would be.
    static let transactionMarkers: Set<String> = ["begin", "commit", "end"]
    /// Memory and durability are the loader's: a script's cache_size must not lift the bound.
    static let ownedPragmas: Set<String> = ["cache_size", "synchronous", "journal_mode", "mmap_size"]

    init(keyword: String, text: UnsafeRawBufferPointer) {
        if Self.transactionMarkers.contains(keyword) {
            self = .ignored
        } else if keyword == "pragma" {
            let name = Self.pragmaName(text)
            self = name.map { Self.ownedPragmas.contains($0) } == true ? .ignored : .allowed
        } else {
            self = Self.runnable.contains(keyword) ? .allowed : .refused
        }
    }

    /// The first word of `sql`, lower-cased, after whitespace and comments; nil when there is none.
    static func firstKeyword(_ sql: UnsafeRawBufferPointer) -> String? {
        let start = skipTrivia(sql, from: 0)
        return word(sql, at: start).map { String(decoding: sql[start..<$0], as: UTF8.self).lowercased() }
    }

    /// The name after PRAGMA (without a schema prefix, which the sandbox judges).
    static func pragmaName(_ sql: UnsafeRawBufferPointer) -> String? {
        let keywordStart = skipTrivia(sql, from: 0)
        guard let keywordEnd = word(sql, at: keywordStart) else { return nil }
        let start = skipTrivia(sql, from: keywordEnd)
        return word(sql, at: start).map { String(decoding: sql[start..<$0], as: UTF8.self).lowercased() }
    }

    /// Where a statement without quotes or bodies (BEGIN, COMMIT, a pragma) ends: after its ';'.
    static func end(of sql: UnsafeRawBufferPointer) -> UnsafePointer<CChar>? {
        guard let base = sql.baseAddress else { return nil }
        let typed = base.assumingMemoryBound(to: CChar.self)
        guard let semicolon = memchr(base, Int32(UInt8(ascii: ";")), sql.count) else { return typed + sql.count }
        return UnsafePointer(semicolon.assumingMemoryBound(to: CChar.self)) + 1
    }

    private static func skipTrivia(_ sql: UnsafeRawBufferPointer, from: Int) -> Int {
        var i = from
        let n = sql.count
        while i < n {
            let b = sql[i]
            if b == 0x20 || b == 0x0A || b == 0x09 || b == 0x0D || b == 0x0C {
                i += 1
            } else if b == UInt8(ascii: "-"), i + 1 < n, sql[i + 1] == UInt8(ascii: "-") {
                while i < n, sql[i] != 0x0A { i += 1 }
            } else if b == UInt8(ascii: "/"), i + 1 < n, sql[i + 1] == UInt8(ascii: "*") {
                i += 2
                while i + 1 < n, !(sql[i] == UInt8(ascii: "*") && sql[i + 1] == UInt8(ascii: "/")) { i += 1 }
                i = min(n, i + 2)
            } else {
                break
            }
        }
        return i
    }

    /// End of the identifier-like word at `start`, or nil when none starts there.
    private static func word(_ sql: UnsafeRawBufferPointer, at start: Int) -> Int? {
        var i = start
        while i < sql.count {
            let b = sql[i] | 0x20
            guard (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || sql[i] == UInt8(ascii: "_") else { break }
            i += 1
        }
        return i > start ? i : nil
    }
}
