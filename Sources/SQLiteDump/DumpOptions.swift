import ChunkIO
import Foundation
import Support

/// How a dump is written. Defaults suit the `sqlite3` CLI and a 2-core machine.
public struct DumpOptions: Sendable {
    public var dialect: Dialect = .sqlite
    /// Size of each buffer handed to the next stage; also the unit of parallel compression.
    public var chunkSize: Int = 256 << 10
    /// How many chunk buffers may exist at once (the memory bound of the writer side).
    public var bufferCount: Int = 4
    public var busyTimeoutMilliseconds: Int32 = 5000
    /// Name written in the header; defaults to the database's file name.
    public var sourceName: String?
    /// Time written in the header; defaults to the moment the snapshot is taken.
    public var timestamp: Date?
    public var cancellation: Cancellation?
    /// Record the source's foreign_key_check and integrity_check results before the trailer, so
    /// a restore can tell a faithful copy of a database with violations from a damaged one.
    public var sourceChecks = true
    /// Called from the dump thread about twice a second.
    public var progress: (@Sendable (DumpProgress) -> Void)?

    public init() {}
}

/// A snapshot of a running dump, for progress lines.
public struct DumpProgress: Sendable {
    public var table: String
    public var tablesDone: Int
    public var tablesTotal: Int
    public var rowsDone: Int64
    public var rowsTotal: Int64
    public var bytes: Int64
    public var elapsed: Double
}

/// What a finished dump contained.
public struct DumpSummary: Sendable {
    public var tables: Int
    public var rows: Int64
    public var rowsPerTable: [(name: String, rows: Int64)]
    public var bytes: Int64
    public var seconds: Double
    public var timestamp: Date
    public var dialect: Dialect
}
