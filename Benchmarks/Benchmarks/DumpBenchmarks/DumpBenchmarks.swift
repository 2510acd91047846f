import Benchmark
import BenchmarkFixtures
import ChunkIO
import SQLiteDump

// The SQL writer alone: a whole database rendered to SQL text and dropped by a DiscardSink, so
// the figures are the reader's and formatter's, without compression or I/O.
let benchmarks: @Sendable () -> Void = {
    dumpBenchmark("dump chinook to DiscardSink", maxDuration: .seconds(5), maxIterations: 500) {
        try FixturePaths.existing(FixturePaths.chinook)
    }
    dumpBenchmark("dump 50MB portal db to DiscardSink", maxDuration: .seconds(20), maxIterations: 20) {
        try PortalDatabase.path(sizeMiB: 50)
    }
}

/// A benchmark that dumps the database whose path `database` returns (once, before measuring).
private func dumpBenchmark(
    _ name: String, maxDuration: Duration, maxIterations: Int, database: @escaping @Sendable () throws -> String
) {
    Benchmark(
        name,
        configuration: .init(metrics: BenchmarkMetric.backstreamDefaults, maxDuration: maxDuration, maxIterations: maxIterations),
        closure: { benchmark, path in
            for _ in benchmark.scaledIterations {
                try benchmark.measuringRate { try dump(path) }
            }
        },
        setup: { try database() })
}

/// Dumps the database at `path` (SQLite dialect) and returns the bytes of SQL produced.
private func dump(_ path: String) throws -> Int {
    let sink = DiscardSink()
    let dumper = try Dumper(databasePath: path, options: DumpOptions())
    _ = try dumper.run(into: sink)
    return sink.bytes
}
