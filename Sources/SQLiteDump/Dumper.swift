import ChunkIO
import Foundation

/// Writes one consistent state of a database, read from a `RowSource`, as a SQL script.
/// Used by one thread at a time; it may be created on one thread and run on another.
package final class Dumper: @unchecked Sendable {
    private let render: (ChunkSink) throws -> DumpSummary

    /// Dumps the local database file at `databasePath` (opened read-only; the snapshot starts now).
    package convenience init(databasePath: String, options: DumpOptions = DumpOptions()) throws {
        self.init(source: try SnapshotSource(databasePath: databasePath, options: options), options: options)
    }

    /// Dumps whatever `source` yields. The writer is specialised for `Source`.
    package init<Source: RowSource>(source: Source, options: DumpOptions) {
        render = { sink in try Self.render(source, options: options, into: sink) }
    }

    /// Renders the script into `sink` and finishes it; on any error the sink is aborted.
    package func run(into sink: ChunkSink) throws -> DumpSummary { try render(sink) }

    private static func render<Source: RowSource>(_ source: Source, options: DumpOptions, into sink: ChunkSink) throws -> DumpSummary {
        let started = DispatchTime.now().uptimeNanoseconds
        let pool = ChunkPool(size: max(2, options.bufferCount), chunkCapacity: max(64 * 1024, options.chunkSize))
        var writer: SQLWriter?
        do {
            let plan = try source.schema(for: options.dialect)
            let out = try SQLWriter(sink: sink, pool: pool)
            out.cancellation = options.cancellation
            writer = out
            let timestamp = options.timestamp ?? Date()
            var script = ScriptWriter(writer: out, source: source, plan: plan, options: options, startedNanos: started)
            try script.header(sourceName: options.sourceName ?? source.name, timestamp: timestamp)
            try script.body()
            try script.trailer(checks: try source.sourceChecks(cancellation: options.cancellation))
            try out.finish()
            writer = nil
            try sink.finish()
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            let dataTables = plan.tables.filter(\.hasData)
            return DumpSummary(tables: plan.tables.count, rows: script.rowsWritten,
                               rowsPerTable: dataTables.map { ($0.name, $0.rowCount) },
                               bytes: out.totalBytes, seconds: seconds, timestamp: timestamp,
                               dialect: options.dialect, sourceNotes: source.finalNotes)
        } catch {
            source.stop()
            writer?.discard()
            pool.fail(error)
            sink.abort(error)
            throw error
        }
    }
}
