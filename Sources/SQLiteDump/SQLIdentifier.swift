/// SQL quoting for names and the JSON strings used in header comments.
enum SQLIdentifier {
    /// `"name"` with embedded double quotes doubled; any name SQLite accepts round-trips.
    static func quote(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// `'text'` with embedded single quotes doubled.
    static func literal(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
    }

    /// A JSON string literal, so a header line never breaks on a name with a newline.
    static func json(_ text: String) -> String { JSONText.quoted(text) }
}
