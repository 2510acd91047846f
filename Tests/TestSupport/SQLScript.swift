import CSQLite
import Foundation

/// Splits a SQL script into complete statements the way the sqlite3 shell does
/// (`sqlite3_complete`), and checks the rules Cloudflare D1 applies to imported files.
package enum SQLScript {
    package static func statements(_ script: [UInt8]) -> [[UInt8]] {
        var result: [[UInt8]] = []
        var current: [UInt8] = []
        var index = 0
        while index < script.count {
            let byte = script[index]
            current.append(byte)
            index += 1
            if byte == UInt8(ascii: ";") {
                let complete = (current + [0]).withUnsafeBufferPointer { buffer in
                    buffer.withMemoryRebound(to: CChar.self) { sqlite3_complete($0.baseAddress) != 0 }
                }
                if complete {
                    let trimmed = strippingComments(current)
                    if !trimmed.isEmpty { result.append(trimmed) }
                    current = []
                }
            }
        }
        return result
    }

    /// Leading whitespace and `--` comment lines removed.
    static func strippingComments(_ statement: [UInt8]) -> [UInt8] {
        var i = 0
        while i < statement.count {
            let b = statement[i]
            if b == 0x20 || b == 0x0A || b == 0x09 || b == 0x0D { i += 1; continue }
            if b == UInt8(ascii: "-"), i + 1 < statement.count, statement[i + 1] == UInt8(ascii: "-") {
                while i < statement.count && statement[i] != 0x0A { i += 1 }
                continue
            }
            break
        }
        return Array(statement[i...])
    }

    /// Violations of D1's import rules: transaction control, writable_schema, `_cf_` tables and
    /// statements longer than 100,000 bytes.
    package static func d1Violations(_ script: [UInt8]) -> [String] {
        var problems: [String] = []
        for statement in statements(script) {
            let head = String(decoding: statement.prefix(64), as: UTF8.self).uppercased()
            if statement.count > 100_000 { problems.append("statement of \(statement.count) bytes: \(head)") }
            for word in ["BEGIN", "COMMIT", "SAVEPOINT", "RELEASE", "ROLLBACK", "END TRANSACTION"] where head.hasPrefix(word) {
                problems.append("transaction control: \(head)")
            }
            if head.contains("WRITABLE_SCHEMA") { problems.append("writable_schema: \(head)") }
            if head.contains("\"_CF_") || head.contains(" _CF_") { problems.append("_cf_ table: \(head)") }
        }
        return problems
    }
}
