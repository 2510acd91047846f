import ChunkIO
import CLibdeflate

/// A second thread that decodes one whole Backstream gzip member at a time, so a restore
/// decompresses two members at once where decompression is what the loader waits for (the
/// stretches of hex-encoded BLOBs, which parse and insert quickly).
///
/// One job at a time: the decoder hands a member over, decodes the next one itself, then
/// takes this one's result, which keeps the output in order with no reordering buffer.
final class GzipMemberWorker: @unchecked Sendable {
    struct Job {
        let input: UnsafeRawPointer
        let count: Int
        let output: UnsafeMutableRawPointer
        let capacity: Int
    }

    private let jobs = BlockingQueue<Job>(capacity: 1)
    /// Bytes produced, or nil when the member is damaged.
    private let results = BlockingQueue<Int?>(capacity: 1)
    private let thread = WorkerThreads()
    private let decompressor: OpaquePointer

    init?() {
        guard let decompressor = libdeflate_alloc_decompressor() else { return nil }
        self.decompressor = decompressor
        thread.start("gzip-decode") { [self] _ in
            while let job = try? jobs.take() {
                var used = 0, produced = 0
                let rc = libdeflate_gzip_decompress_ex(self.decompressor, job.input, job.count, job.output, job.capacity, &used, &produced)
                guard (try? results.put(rc == LIBDEFLATE_SUCCESS && used == job.count ? produced : nil)) != nil else { return }
            }
        }
    }

    func submit(_ job: Job) throws { try jobs.put(job) }

    /// Waits for the submitted member: its length, or nil when it is damaged.
    func result() throws -> Int? {
        guard let produced = try results.take() else { throw PipelineMisuse(call: "result without a job") }
        return produced
    }

    /// Ends the thread; a job still running finishes first (its buffers outlive this call).
    func stop() {
        jobs.close()
        results.fail(PipelineMisuse(call: "result after stop"))
        thread.join()
    }

    deinit { libdeflate_free_decompressor(decompressor) }
}
