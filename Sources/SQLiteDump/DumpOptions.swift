import ChunkIO
import Foundation
import Support

/// How a dump is written. Defaults suit the `sqlite3` CLI and a 2-core machine.
package struct DumpOptions: Sendable {
    package var dialect: Dialect = .sqlite
    /// Size of each buffer handed to the next stage; also the unit of parallel compression.
    package var chunkSize: Int = 256 << 10
    /// How many chunk buffers may exist at once (the memory bound of the writer side).
    package var bufferCount: Int = 4
    package var busyTimeoutMilliseconds: Int32 = 5000
    /// Name written in the header; defaults to the database's file name.
    package var sourceName: String?
    /// Time written in the header; defaults to the moment the snapshot is taken.
    package var timestamp: Date?
    package var cancellation: Cancellation?
    /// Record the source's foreign_key_check and integrity_check results before the trailer, so
    /// a restore can tell a faithful copy of a database with violations from a damaged one.
    package var sourceChecks = true
    /// Page cache of the two checking connections together, in KiB. The checks seek: with 512 KiB
    /// each, foreign_key_check and integrity_check read 574k pages of a 200 MB database through
    /// the kernel, with 8 MiB and 4 MiB 163k. A caller whose other buffers are large (multipart
    /// parts) passes less to keep the process under its bound.
    package var sourceCheckCacheKiB = DumpOptions.sourceCheckCacheKiB
    package static let sourceCheckCacheKiB = 12288
    /// For a dump sharing the process with multipart part buffers: 512 KiB a connection.
    package static let smallSourceCheckCacheKiB = 1024
    /// Called from the dump thread about twice a second.
    package var progress: (@Sendable (DumpProgress) -> Void)?

    package init() {}
}

/// A snapshot of a running dump, for progress lines.
package struct DumpProgress: Sendable {
    package var table: String
    package var tablesDone: Int
    package var tablesTotal: Int
    package var rowsDone: Int64
    package var rowsTotal: Int64
    package var bytes: Int64
    package var elapsed: Double
}

/// What a finished dump contained.
package struct DumpSummary: Sendable {
    package var tables: Int
    package var rows: Int64
    package var rowsPerTable: [(name: String, rows: Int64)]
    package var bytes: Int64
    package var seconds: Double
    package var timestamp: Date
    package var dialect: Dialect
    /// The source's `finalNotes` (a D1 bookmark, say), for the object metadata.
    package var sourceNotes: [String: String] = [:]
}
