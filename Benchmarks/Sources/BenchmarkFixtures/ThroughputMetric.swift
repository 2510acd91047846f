import Benchmark

extension BenchmarkMetric {
    /// Bytes of output per second of the measured work, in MB/s (10^6): the figure the
    /// bench.py targets and the design notes speak in.
    public static var megabytesPerSecond: BenchmarkMetric {
        .custom("MB/s", polarity: .prefersLarger, useScalingFactor: false)
    }

    /// The metrics every Backstream benchmark reports.
    public static var backstreamDefaults: [BenchmarkMetric] {
        [.wallClock, .throughput, .peakMemoryResident, .mallocCountTotal, .megabytesPerSecond]
    }
}

extension Benchmark {
    /// Runs `work`, which returns how many bytes it produced, and records its MB/s.
    public func measuringRate(_ work: () throws -> Int) rethrows {
        let clock = ContinuousClock()
        let start = clock.now
        let bytes = try work()
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        if seconds > 0 {
            measurement(.megabytesPerSecond, Int((Double(bytes) / 1e6 / seconds).rounded()))
        }
    }
}
