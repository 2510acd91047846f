import Foundation

/// Counts the bytes passing through to `downstream` and reports them at most every `interval`
/// seconds, then once more at the end, for progress lines on long transfers.
///
/// The report runs on the writing thread and must be quick (it formats one line).
package final class ProgressSink: ChunkSink {
    package typealias Report = (_ bytes: Int64, _ elapsed: Double) -> Void

    private let downstream: ChunkSink
    private let report: Report
    private let interval: Double
    private let started = DispatchTime.now().uptimeNanoseconds
    private var lastReport: UInt64
    package private(set) var bytes: Int64 = 0

    package init(downstream: ChunkSink, interval: Double = 0.5, report: @escaping Report) {
        self.downstream = downstream
        self.interval = interval
        self.report = report
        lastReport = started
    }

    /// `sink` behind a counter when there is someone to report to, else `sink` itself.
    package static func counting(_ sink: ChunkSink, _ report: Report?) -> ChunkSink {
        report.map { ProgressSink(downstream: sink, report: $0) } ?? sink
    }

    package func write(_ chunk: Chunk) throws {
        bytes += Int64(chunk.count)
        let now = DispatchTime.now().uptimeNanoseconds
        if Double(now - lastReport) / 1e9 >= interval {
            lastReport = now
            report(bytes, Double(now - started) / 1e9)
        }
        try downstream.write(chunk)
    }

    package func finish() throws {
        try downstream.finish()
        report(bytes, Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9)
    }

    package func abort(_ error: Error) {
        downstream.abort(error)
    }
}
