import ChunkIO
import CLibdeflate
import CZlib
import Foundation

/// Compresses chunks on several threads, each chunk into one gzip member, and hands the members
/// downstream in their original order. A concatenation of members is one valid gzip stream
/// (RFC 1952), so `gunzip` reads the result while compression scales with cores.
///
/// Memory is fixed: every job holds one output buffer from a pool taken in submission order, so
/// the oldest job can always finish and the producer blocks when `threads + 2` are in flight.
///
/// `finish` and `abort` may come in any order and more than once: a caller aborts after a failed
/// finish (the upload's 403, a failed rename). The writer's end is a state both read, not a
/// one-shot signal the first one consumes, and the downstream is finished or aborted once.
package final class GzipCompressorSink: ChunkSink, @unchecked Sendable {
    private struct Job {
        let sequence: Int
        let input: Chunk
        let output: Chunk
    }

    private let downstream: ChunkSink
    private let level: Int32
    private let jobs: BlockingQueue<Job>
    private let outputPool: ChunkPool
    private let outputCapacity: Int
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
    ///   - level: 1 (fastest) to 12 (smallest); 6 matches `gzip -6` in spirit and beats it in size.
    ///   - threads: compressor threads, usually the number of cores.
    ///   - chunkCapacity: the largest input chunk expected (output buffers are sized from it).
    package init(downstream: ChunkSink, level: Int = 6, threads: Int = ProcessInfo.processInfo.activeProcessorCount,
                chunkCapacity: Int = 1 << 20) throws {
        guard (1...12).contains(level) else {
            throw CompressionError(.invalidLevel, "compression level \(level) is out of range; use 1 (fastest) to 12 (smallest)")
        }
        guard let probe = libdeflate_alloc_compressor(Int32(level)) else {
            throw CompressionError(.compressorUnavailable, "libdeflate could not allocate a compressor (out of memory?)")
        }
        outputCapacity = libdeflate_gzip_compress_bound(probe, chunkCapacity)
        libdeflate_free_compressor(probe)
        let threads = max(1, threads)
        self.downstream = downstream
        self.level = Int32(level)
        jobs = BlockingQueue(capacity: threads * 2)
        outputPool = ChunkPool(size: threads + 2, chunkCapacity: outputCapacity)
        workersLeft = threads
        for index in 0..<threads {
            let thread = Thread { [self] in self.work() }
            thread.name = "backstream-gzip-\(index)"
            thread.start()
        }
        let writer = Thread { [self] in self.writeInOrder() }
        writer.name = "backstream-gzip-writer"
        writer.start()
    }

    /// Uncompressed bytes consumed so far.
    package var bytesIn: Int { reorder.withLock { totalIn } }
    /// Compressed bytes handed downstream so far.
    package var bytesOut: Int { reorder.withLock { totalOut } }
    /// CRC-32 of all uncompressed bytes, combined from the members' trailers at no extra cost.
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
                // An empty stream is still one (empty) gzip member, so readers see valid gzip.
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

    private func work() {
        let compressor = libdeflate_alloc_compressor(level)
        // Hex-encoded BLOBs (random-looking bytes) gain next to nothing from deeper matching but
        // cost several times the CPU: chunks made mostly of them use the fastest matcher.
        let fast = level > 1 ? libdeflate_alloc_compressor(1) : nil
        defer {
            if let compressor { libdeflate_free_compressor(compressor) }
            if let fast { libdeflate_free_compressor(fast) }
            reorder.withLock {
                workersLeft -= 1
                reorder.broadcast()
            }
        }
        guard let compressor else {
            fail(StageError(stage: "compressing", underlying: CompressionError(.compressorUnavailable, "libdeflate could not allocate a compressor (out of memory?)")))
            return
        }
        while let job = try? jobs.take() {
            let output = job.output
            let mostlyHex = job.input.hexBytes * 2 > job.input.count
            let size = libdeflate_gzip_compress(mostlyHex ? (fast ?? compressor) : compressor,
                                                job.input.base, job.input.count, output.base, output.capacity)
            let inputCount = job.input.count
            job.input.recycle()
            guard size > 0 else {
                fail(StageError(stage: "compressing", underlying: CompressionError(.compressorUnavailable, "a chunk of \(inputCount) bytes did not fit its gzip buffer; chunks must not exceed the compressor's chunk capacity")))
                return
            }
            output.count = size
            output.sourceCount = inputCount
            // The member trailer holds the CRC-32 of the input, little-endian, before ISIZE.
            output.checksum = UInt32(littleEndian: (output.base + size - 8).loadUnaligned(as: UInt32.self))
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
