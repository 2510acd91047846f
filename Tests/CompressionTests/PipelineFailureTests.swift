import ChunkIO
import Compression
import Foundation
import Testing
import TestSupport
import Support

/// A downstream that fails where it is told to: in a write, in finish, or (as well) in abort's
/// cleanup, which cannot throw but may be slow or called twice.
final class FaultySink: ChunkSink, @unchecked Sendable {
    enum Fault { case write(Int), finish }
    let fault: Fault
    private(set) var writes = 0
    private(set) var aborts = 0
    private(set) var finished = false

    init(_ fault: Fault) { self.fault = fault }

    func write(_ chunk: Chunk) throws {
        chunk.recycle()
        writes += 1
        if case .write(let n) = fault, writes == n { throw Injected() }
    }

    func finish() throws {
        if case .finish = fault { throw Injected() }
        finished = true
    }

    func abort(_ error: Error) { aborts += 1 }
}

struct Injected: Error, CustomStringConvertible {
    var description: String { "disk full" }
}

/// Drives `sink` as the Dumper does: write, finish, and abort on any error, including a failed
/// finish. Returns the error, or nil when the call did not return within `seconds` (a hang).
/// `input` replaces the generated text of `bytes` bytes when given.
func driveBounded(_ sink: ChunkSink, bytes: Int, seconds: Double = 10, input: [UInt8]? = nil,
                  chunkSize: Int = 64 * 1024) -> (returned: Bool, error: String?) {
    final class Box: @unchecked Sendable {
        var error: String?
        let sink: ChunkSink
        init(_ sink: ChunkSink) { self.sink = sink }
    }
    let box = Box(sink)
    let done = DispatchSemaphore(value: 0)
    let worker = Thread {
        do {
            try feed(input ?? sampleText(bytes), chunkSize: chunkSize, into: box.sink)
        } catch {
            box.error = "\(error)"
        }
        done.signal()
    }
    worker.start()
    let returned = done.wait(timeout: .now() + seconds) == .success
    return (returned, box.error)
}

@Suite("pipeline failures end")
struct PipelineFailureTests {
    @Test("a downstream finish that fails (the PutObject's 403, a failed rename) ends the compressor; it is aborted once",
          arguments: [1, 2, 4])
    func finishFails(threads: Int) throws {
        let downstream = FaultySink(.finish)
        let gzip = try GzipCompressorSink(downstream: downstream, level: 1, threads: threads, chunkCapacity: 64 * 1024)
        let outcome = driveBounded(StageSink("uploading", downstream: gzip), bytes: 300_000)
        #expect(outcome.returned, "finish and abort deadlocked")
        #expect(outcome.error == "uploading: disk full")
        #expect(downstream.aborts == 1 && !downstream.finished)
        // Another abort, as a second layer of clean-up does, returns at once and does nothing.
        gzip.abort(Injected())
        #expect(downstream.aborts == 1)
    }

    @Test("a downstream write that fails at the start or in the middle ends the compressor", arguments: [1, 3])
    func writeFails(at chunk: Int) throws {
        let downstream = FaultySink(.write(chunk))
        let gzip = try GzipCompressorSink(downstream: downstream, level: 1, threads: 2, chunkCapacity: 64 * 1024)
        let outcome = driveBounded(gzip, bytes: 2_000_000)
        #expect(outcome.returned, "the failed write hung the pipeline")
        #expect(outcome.error == "disk full")
        #expect(downstream.aborts >= 1 && !downstream.finished)
    }

    @Test("a threaded stage whose downstream fails in finish ends, and a later abort does not wait")
    func threadedFinishFails() throws {
        let downstream = FaultySink(.finish)
        let threaded = ThreadedSink(downstream: downstream)
        let gzip = try GzipCompressorSink(downstream: threaded, level: 1, threads: 2, chunkCapacity: 64 * 1024)
        let outcome = driveBounded(gzip, bytes: 500_000)
        #expect(outcome.returned, "finish and abort deadlocked")
        #expect(outcome.error == "disk full")
        #expect(downstream.aborts == 1)
        let again = DispatchSemaphore(value: 0)
        Thread.detachNewThread { threaded.abort(Injected()); again.signal() }
        #expect(again.wait(timeout: .now() + 10) == .success)
    }

    @Test("a cancellation seen by the upload stage ends the pipeline before the object is sealed")
    func cancelledBeforeFinish() throws {
        let downstream = FaultySink(.write(Int.max))
        let cancellation = Cancellation()
        cancellation.cancel(signal: 15)
        let gzip = try GzipCompressorSink(downstream: StageSink("uploading", downstream: downstream, cancellation: cancellation),
                                          level: 1, threads: 2, chunkCapacity: 64 * 1024)
        let outcome = driveBounded(gzip, bytes: 200_000)
        #expect(outcome.returned)
        #expect(outcome.error == CancelledError().description)
        #expect(!downstream.finished && downstream.aborts == 1)
        #expect(cancellation.signal == 15)
    }

    @Test("zstd: a downstream that fails in a write or in finish ends the stream; the downstream is aborted once",
          arguments: [FaultySink.Fault.write(1), .write(3), .finish])
    func zstdDownstreamFails(_ fault: FaultySink.Fault) throws {
        let downstream = FaultySink(fault)
        let zstd = try ZstdStreamSink(downstream: downstream, level: 1, threads: 2, chunkCapacity: 64 * 1024)
        // Random bytes do not shrink, so the output reaches several chunks before finish.
        let outcome = driveBounded(zstd, bytes: 0, input: (0..<1_000_000).map { _ in UInt8.random(in: 0...255) })
        #expect(outcome.returned, "the failure hung the pipeline")
        #expect(outcome.error == "disk full")
        zstd.abort(Injected())
        #expect(downstream.aborts == 1 && !downstream.finished)
    }
}
