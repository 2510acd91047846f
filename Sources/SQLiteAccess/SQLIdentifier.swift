import Support

/// SQL quoting for names and text, the one place every module quotes SQL.
package enum SQLIdentifier {
    /// `"name"` with embedded double quotes doubled; any name SQLite accepts round-trips.
    package static func quote(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// `'text'` with embedded single quotes doubled.
    package static func literal(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
    }

    /// A JSON string literal, so a header line never breaks on a name with a newline.
    package static func json(_ text: String) -> String { JSONText.quoted(text) }
}
