import ChunkIO
import Foundation
import Testing
import TestSupport

struct ProgressSinkTests {
    @Test func countsEveryBytePassedOnAndReportsTheTotalAtTheEnd() throws {
        let downstream = CollectingSink()
        let reports = Reports()
        // Interval 0: every chunk reports, so the counts can be checked one by one.
        let sink = ProgressSink(downstream: downstream, interval: 0) { bytes, elapsed in reports.add(bytes, elapsed) }
        let expected = try writeNumbered(30, to: sink, pool: ChunkPool(size: 2, chunkCapacity: 10))
        try sink.finish()
        #expect(downstream.bytes == expected && downstream.finished)
        #expect(sink.bytes == Int64(expected.count))
        let counts = reports.all.map(\.bytes)
        #expect(counts.count == 31 && counts == counts.sorted())
        #expect(counts.last == Int64(expected.count))
        #expect(reports.all.allSatisfy { $0.elapsed >= 0 })
    }

    @Test func reportsAreThrottledToTheInterval() throws {
        let reports = Reports()
        let sink = ProgressSink(downstream: CollectingSink(), interval: 3600) { bytes, elapsed in reports.add(bytes, elapsed) }
        _ = try writeNumbered(100, to: sink, pool: ChunkPool(size: 2, chunkCapacity: 10))
        #expect(reports.all.isEmpty)
        try sink.finish()
        #expect(reports.all.count == 1)
    }

    @Test func withoutAReportTheSinkIsUnwrapped() {
        let downstream = CollectingSink()
        #expect(ProgressSink.counting(downstream, nil) === downstream)
        #expect(ProgressSink.counting(downstream, { _, _ in }) is ProgressSink)
    }

    @Test func abortReachesDownstream() {
        let downstream = CollectingSink()
        ProgressSink(downstream: downstream) { _, _ in }.abort(TestError("stop"))
        #expect(downstream.abortReason == "stop")
    }
}

final class Reports: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [(bytes: Int64, elapsed: Double)] = []
    func add(_ bytes: Int64, _ elapsed: Double) { lock.withLock { stored.append((bytes, elapsed)) } }
    var all: [(bytes: Int64, elapsed: Double)] { lock.withLock { stored } }
}
