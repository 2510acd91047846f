import Backup
import Hummingbird

/// `POST /api/admin/backup/{key}/verify`: the CLI's `verify --json` report. Absent facts are
/// `null`, not missing keys.
struct VerifyAnswer: ResponseEncodable {
    let report: RestoreReport

    struct Table: Encodable { var name: String; var expected: Int64; var actual: Int64 }

    enum CodingKeys: String, CodingKey {
        case key, ok, rows, sqlBytes = "sql_bytes", durationMS = "duration_ms", integrityCheck = "integrity_check"
        case foreignKeyViolations = "foreign_key_violations", contentCRC32 = "content_crc32", expectedCRC32 = "expected_crc32"
        case complete, foreign, sourceForeignKeyViolations = "source_foreign_key_violations", tables, problems, notes
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(report.key, forKey: .key)
        try c.encode(report.ok, forKey: .ok)
        try c.encode(report.rows, forKey: .rows)
        try c.encode(Int64(report.sqlBytes), forKey: .sqlBytes)
        try c.encode(Int64(report.seconds * 1000), forKey: .durationMS)
        try c.encode(report.integrity, forKey: .integrityCheck)
        try c.encode(Int64(report.foreignKeyViolations), forKey: .foreignKeyViolations)
        try c.encode(String(report.actualCRC32), forKey: .contentCRC32)
        try c.encode(report.expectedCRC32.map { String($0) }, forKey: .expectedCRC32)
        try c.encode(report.complete, forKey: .complete)
        try c.encode(report.foreign, forKey: .foreign)
        // The source's own count at backup time, "error" when it could not be counted.
        if let checks = report.sourceChecks {
            if let count = checks.foreignKeyViolations {
                try c.encode(Int64(count), forKey: .sourceForeignKeyViolations)
            } else {
                try c.encode("error", forKey: .sourceForeignKeyViolations)
            }
        } else {
            try c.encodeNil(forKey: .sourceForeignKeyViolations)
        }
        try c.encode(report.tables.map { Table(name: $0.name, expected: Int64($0.expected), actual: Int64($0.actual)) }, forKey: .tables)
        try c.encode(report.problems, forKey: .problems)
        try c.encode(report.notes, forKey: .notes)
    }
}
