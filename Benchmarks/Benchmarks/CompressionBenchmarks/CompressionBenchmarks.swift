import Benchmark
import BenchmarkFixtures
import ChunkIO
import Compression
import Foundation

// The gzip stage alone: 64 MiB of realistic SQL text (the start of the 50 MiB portal database's
// dump) fed in 1 MiB chunks to the parallel compressor, its members counted by a DiscardSink.
let benchmarks: @Sendable () -> Void = {
    let sqlTextBytes = 64 << 20
    let cores = ProcessInfo.processInfo.activeProcessorCount
    let threadCounts = Array(Set([1, 2, cores])).sorted()

    for threads in threadCounts {
        Benchmark(
            "gzip level 6 of 64 MiB SQL text with \(threads) threads",
            configuration: .init(metrics: BenchmarkMetric.backstreamDefaults, maxDuration: .seconds(20), maxIterations: 20),
            closure: { benchmark, text in
                for _ in benchmark.scaledIterations {
                    try benchmark.measuringRate {
                        let sink = DiscardSink()
                        let gzip = try GzipCompressorSink(downstream: sink, level: 6, threads: threads)
                        try ChunkFeeder().feed(text, to: gzip)
                        return text.count  // the rate is of SQL text in, as in bench.py
                    }
                }
            },
            setup: { try PortalDatabase.sqlText(byteCount: sqlTextBytes) })
    }
}
