import ChunkIO
import Foundation

/// Streams an object of unknown length to S3 as equal-sized parts, at most
/// `maxConcurrentParts` in flight, each worker on its own thread with its own curl handle.
///
/// Memory is `max(2, maxConcurrentParts) × partSize`, whatever the object's size (a pool of part
/// buffers, made only as the stream needs them, so a small object costs one): the buffer being
/// filled is one of them, so when the producer is faster than the network it waits for a
/// part to finish, and when it is slower fewer parts are in flight anyway. (One part in flight
/// still gets two buffers, or reading and sending would take turns.) A stream that
/// fits in one part becomes a single PutObject; a failed or aborted upload is aborted on the
/// server, so no parts are left behind and nothing appears at the key.
final class MultipartUpload: FinalMetadataUpload, @unchecked Sendable {
    private let store: S3Store
    private let key: String
    private let metadata: [String: String]
    private let contentType: String
    private let condition: WriteCondition
    let partSize: Int
    private let workerCount: Int
    private let maxBuffers: Int
    private let buffers: ChunkPool
    private var current: Chunk?
    private var partsQueued = 0
    private var uploadId: String?
    private var jobs: BlockingQueue<(number: Int, buffer: Chunk)>?
    private let workers = WorkerThreads()
    private let lock = NSLock()
    private var completed: [Int: CompletedPart] = [:]
    private var failure: Error?
    private var closed = false
    /// Set (under `lock`) once finish or abort has begun: a later abort from another thread
    /// then only signals the failure and never waits for the finishing thread.
    private var ended = false
    private var bytesQueued = 0
    /// The stored object's ETag, set by `finish`.
    private(set) var etag: String?

    init(store: S3Store, key: String, metadata: [String: String], contentType: String,
         condition: WriteCondition = .none, partSize: Int) {
        self.store = store
        self.key = key
        self.metadata = metadata
        self.contentType = contentType
        self.condition = condition
        self.partSize = partSize
        workerCount = store.configuration.maxConcurrentParts
        maxBuffers = max(2, workerCount)
        buffers = ChunkPool(size: maxBuffers, chunkCapacity: partSize)
    }

    /// The smallest whole number of MiB (at least `defaultSize`) that fits `sizeHint` in 10,000 parts.
    static func partSize(sizeHint: Int?, defaultSize: Int) -> Int {
        let mebibyte = 1 << 20
        guard let hint = sizeHint, hint > 0 else { return defaultSize }
        let needed = (hint + S3Configuration.maximumParts - 1) / S3Configuration.maximumParts
        return max(defaultSize, (needed + mebibyte - 1) / mebibyte * mebibyte)
    }

    func write(_ chunk: Chunk) throws {
        defer { chunk.recycle() }
        do {
            try append(chunk.bytes)
        } catch {
            // Clean up at once rather than trust every caller to call abort.
            if !closed {
                closed = true
                lock.withLock { ended = true }
                stopAndAbortRemote(error)
            }
            throw error
        }
    }

    private func append(_ bytes: UnsafeRawBufferPointer) throws {
        if let failure = lock.withLock({ failure }) { throw failure }
        var rest = bytes
        while !rest.isEmpty {
            // A full buffer is sent only once more bytes arrive: if the stream ends exactly at a
            // part boundary, the last part must still carry data (and one part means PutObject).
            if let full = current, full.isFull {
                current = nil
                try send(full)
            }
            let buffer = try current ?? buffers.take()
            current = buffer
            rest = UnsafeRawBufferPointer(rebasing: rest[buffer.append(rest)...])
        }
    }

    func finish() throws {
        try finish(metadata: metadata, contentType: nil)
    }

    /// With metadata other than the upload's: one PutObject carries it; a multipart upload is
    /// completed, then its metadata rewritten by a server-side copy (a failure of that copy
    /// leaves the completed object with its first metadata and throws at `.copyMetadata`).
    func finish(metadata finalMetadata: [String: String], contentType finalType: String?) throws {
        let changed = finalMetadata != metadata || (finalType != nil && finalType != contentType)
        if changed { try store.validate(key: key, metadata: finalMetadata) }
        guard !closed else {
            // A failed write already aborted the upload; say why rather than complete nothing.
            throw lock.withLock { failure } ?? ObjectStoreError(.aborted, store: store.displayName, key: key,
                                                                 cause: "finish was called after the upload had ended")
        }
        closed = true
        lock.withLock { ended = true }
        do {
            guard let uploadId else {
                let body = current?.bytes ?? UnsafeRawBufferPointer(start: nil, count: 0)
                do {
                    etag = try store.putObject(key: key, body: body, metadata: finalMetadata, contentType: finalType ?? contentType,
                                               condition: condition, handle: nil)
                } catch {
                    throw ObjectStoreError.wrap(error, stage: .putObject, store: store.displayName, key: key)
                }
                return
            }
            if let last = current {
                current = nil
                try send(last)
            }
            jobs?.close()
            workers.join()
            if let failure = lock.withLock({ failure }) { throw failure }
            let ordered = try (1...partsQueued).map { number in
                guard let part = lock.withLock({ completed[number] }) else {
                    throw ObjectStoreError(.serverError, store: store.displayName, key: key, cause: "part \(number) has no ETag")
                }
                return part
            }
            if let failure = lock.withLock({ failure }) { throw failure }
            do {
                // The condition is checked at completion, when the object would appear.
                etag = try store.completeMultipartUpload(key: key, uploadId: uploadId, parts: ordered, condition: condition)
            } catch {
                throw ObjectStoreError.wrap(error, stage: .completeMultipartUpload, store: store.displayName, key: key)
            }
        } catch {
            stopAndAbortRemote(error)
            throw error
        }
        if changed {
            // Pinned to the object just completed, so a copy never rewrites another writer's object.
            etag = try store.rewriteMetadata(key: key, size: bytesQueued, etag: etag, metadata: finalMetadata,
                                             contentType: finalType ?? contentType)
        }
    }

    func abort(_ error: Error) {
        let first = lock.withLock { () -> Bool in
            defer { ended = true }
            return !ended
        }
        guard first else {
            // finish is running on another thread: make it stop; its own clean-up aborts the upload.
            fail(error)
            return
        }
        closed = true
        stopAndAbortRemote(error)
    }

    // MARK: Internals

    private func send(_ buffer: Chunk) throws {
        if uploadId == nil { try start() }
        guard partsQueued < S3Configuration.maximumParts else {
            throw ObjectStoreError(.invalidArgument, store: store.displayName, key: key,
                                   cause: "the stream needs more than 10,000 parts of \(partSize) bytes; pass a larger size hint")
        }
        partsQueued += 1
        bytesQueued += buffer.count
        try jobs?.put((partsQueued, buffer))
    }

    private func start() throws {
        do {
            uploadId = try store.createMultipartUpload(key: key, metadata: metadata, contentType: contentType)
        } catch {
            throw ObjectStoreError.wrap(error, stage: .createMultipartUpload, store: store.displayName, key: key)
        }
        let queue = BlockingQueue<(number: Int, buffer: Chunk)>(capacity: maxBuffers)
        jobs = queue
        workers.start("upload-part", count: workerCount) { [self] _ in runWorker(queue) }
    }

    private func runWorker(_ queue: BlockingQueue<(number: Int, buffer: Chunk)>) {
        do {
            guard let uploadId else { return }
            let handle = try CurlHandle()
            while let job = try queue.take() {
                // Once the upload failed elsewhere, a failing part is not retried: abort waits for workers.
                let part = try store.uploadPart(key: key, uploadId: uploadId, number: job.number,
                                                body: job.buffer.bytes, handle: handle,
                                                cancelled: { [self] in lock.withLock { failure != nil } })
                lock.withLock { completed[job.number] = part }
                job.buffer.recycle()
            }
        } catch let error as ObjectStoreError where error.code != .aborted {
            fail(error.at(.uploadPart))
        } catch {
            fail(error)
        }
    }

    private func fail(_ error: Error) {
        lock.withLock { if failure == nil { failure = error } }
        jobs?.fail(error)
        buffers.fail(error)
    }

    private func stopAndAbortRemote(_ error: Error) {
        fail(error)
        workers.join()
        current = nil
        if let uploadId {
            // Best effort: if this fails too, listMultipartUploads shows the upload for clean-up.
            try? store.abortMultipartUpload(key: key, uploadId: uploadId)
        }
    }
}
