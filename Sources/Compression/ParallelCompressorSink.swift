import ChunkIO
import CLibdeflate
import CZlib
import Foundation

/// Compresses chunks on several threads, each chunk into one frame of `Codec`'s format, and
/// hands the frames downstream in their original order, with the CRC-32 of everything consumed.
///
/// Memory is fixed: every job holds one output buffer from a pool taken in submission order, so
/// the oldest job can always finish and the producer blocks when `threads + 2` are in flight.
///
/// `finish` and `abort` may come in any order and more than once: a caller aborts after a failed
/// finish (the upload's 403, a failed rename). The writer's end is a state both read, not a
/// one-shot signal the first one consumes, and the downstream is finished or aborted once.
package final class ParallelCompressorSink<Codec: ChunkCodec>: ChunkSink, @unchecked Sendable {
    private struct Job {
        let sequence: Int
        let input: Chunk
        let output: Chunk
    }

    private let downstream: ChunkSink
    private let jobs: BlockingQueue<Job>
    private let outputPool: ChunkPool
    private let reorder = NSCondition()
    private var finished: [Int: Chunk] = [:]
    private var nextSubmit = 0
    private var workersLeft: Int
    private var failure: Error?
    private var writerDone = false
    private var ended = StageEnd.open
    private var totalIn = 0
    private var totalOut = 0
    private var crc: UInt = 0

    /// - Parameters:
    ///   - threads: compressor threads, usually the number of cores; one codec is made for each.
    ///   - chunkCapacity: the largest input chunk expected (output buffers are sized from it).
    ///   - makeCodec: called `threads` times before any thread starts, so its errors are thrown here.
    package init(downstream: ChunkSink, threads: Int = ProcessInfo.processInfo.activeProcessorCount,
                 chunkCapacity: Int = 1 << 20, makeCodec: () throws -> Codec) throws {
        let threads = max(1, threads)
        let codecs = try (0..<threads).map { _ in try makeCodec() }
        self.downstream = downstream
        jobs = BlockingQueue(capacity: threads * 2)
        outputPool = ChunkPool(size: threads + 2, chunkCapacity: codecs[0].outputBound(forInput: chunkCapacity))
        workersLeft = threads
        for (index, codec) in codecs.enumerated() {
            let thread = Thread { [self] in self.work(codec) }
            thread.name = "backstream-\(Codec.name)-\(index)"
            thread.start()
        }
        let writer = Thread { [self] in self.writeInOrder() }
        writer.name = "backstream-\(Codec.name)-writer"
        writer.start()
    }

    /// Uncompressed bytes consumed so far.
    package var bytesIn: Int { reorder.withLock { totalIn } }
    /// Compressed bytes handed downstream so far.
    package var bytesOut: Int { reorder.withLock { totalOut } }
    /// CRC-32 of all uncompressed bytes, combined from the frames' checksums.
    package var contentCRC32: UInt32 { reorder.withLock { UInt32(truncatingIfNeeded: crc) } }

    package func write(_ chunk: Chunk) throws {
        guard chunk.count > 0 else { chunk.recycle(); return }
        let output: Chunk
        do {
            output = try outputPool.take()
        } catch {
            chunk.recycle()
            throw error
        }
        let job = Job(sequence: nextSubmit, input: chunk, output: output)
        nextSubmit += 1
        do {
            try jobs.put(job)
        } catch {
            chunk.recycle()
            output.recycle()
            throw error
        }
    }

    package func finish() throws {
        guard reorder.withLock({ ended.claim(.finishing) }) else {
            throw reorder.withLock { failure } ?? PipelineMisuse(call: "finish")
        }
        do {
            if nextSubmit == 0 {
                // An empty stream is still one (empty) frame, so readers see a valid stream.
                let empty = try outputPool.take()
                do {
                    try jobs.put(Job(sequence: 0, input: Chunk(capacity: 0), output: empty))
                } catch {
                    empty.recycle()
                    throw error
                }
                nextSubmit = 1
            }
        } catch {
            fail(error)
        }
        jobs.close()
        waitForWriter()
        if let failure = reorder.withLock({ failure }) {
            reorder.withLock { ended = .aborted }
            downstream.abort(failure)
            throw failure
        }
        do {
            try downstream.finish()
            reorder.withLock { ended = .finished }
        } catch {
            // The stage after this one failed while sealing: it is aborted here, once, and a
            // later abort from the caller finds nothing left to do.
            reorder.withLock {
                if failure == nil { failure = error }
                ended = .aborted
            }
            downstream.abort(error)
            throw error
        }
    }

    package func abort(_ error: Error) {
        fail(error)
        jobs.close()
        waitForWriter()
        guard reorder.withLock({ ended.claim(.aborted) }) else { return }
        downstream.abort(error)
    }

    private func waitForWriter() {
        reorder.withLock { while !writerDone { reorder.wait() } }
    }

    private func fail(_ error: Error) {
        reorder.withLock {
            if failure == nil { failure = error }
            reorder.broadcast()
        }
        jobs.fail(error)
        outputPool.fail(error)
        // Queued input chunks go back to the producer's pool: a producer waiting there for a
        // chunk (all of them queued here) would otherwise never see the failure.
        for job in jobs.drain() {
            job.input.recycle()
            job.output.recycle()
        }
    }

    private func work(_ codec: Codec) {
        defer {
            reorder.withLock {
                workersLeft -= 1
                reorder.broadcast()
            }
        }
        while let job = try? jobs.take() {
            let input = job.input, output = job.output
            do {
                let frame = try codec.compress(input, into: output)
                output.count = frame.count
                output.sourceCount = input.count
                // libdeflate's CRC-32 is the gzip one, so every codec's checksum combines alike.
                output.checksum = frame.crc32 ?? libdeflate_crc32(0, input.base, input.count)
            } catch {
                input.recycle()
                output.recycle()
                fail(StageError(stage: "compressing", underlying: error))
                return
            }
            input.recycle()
            reorder.withLock {
                finished[job.sequence] = output
                reorder.broadcast()
            }
        }
    }

    private func writeInOrder() {
        var next = 0
        defer {
            reorder.withLock {
                writerDone = true
                reorder.broadcast()
            }
        }
        while true {
            reorder.lock()
            while finished[next] == nil && workersLeft > 0 && failure == nil { reorder.wait() }
            if failure != nil { reorder.unlock(); return }
            guard let chunk = finished.removeValue(forKey: next) else {
                reorder.unlock()
                return  // all workers gone and nothing left: done
            }
            totalIn += chunk.sourceCount
            totalOut += chunk.count
            crc = crc32_combine(crc, UInt(chunk.checksum), off_t(chunk.sourceCount))
            reorder.unlock()
            next += 1
            do {
                try downstream.write(chunk)
            } catch {
                fail(error)
                return
            }
        }
    }
}
