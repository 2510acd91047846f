import ChunkIO

/// Decodes whatever `PayloadFormat` the stream starts with (gzip, zstd or plain SQL) into
/// `downstream`: restore and verify read the bytes, not the key's suffix. The first bytes are
/// held back only when the first chunk is shorter than a magic number. A damaged or cut stream
/// fails as the stage "decompressing gzip" or "decompressing zstd".
package final class PayloadDecoder: ChunkSink {
    private let downstream: ChunkSink
    private let name: String
    private let chunkCapacity: Int
    private var decoder: ChunkSink?
    private var pending: [UInt8] = []
    /// The detected format, once the first bytes arrived.
    package private(set) var format: PayloadFormat?

    /// - Parameters:
    ///   - name: what the stream is (a file, an object key), for error messages.
    ///   - chunkCapacity: the size of the decoded chunks handed downstream.
    package init(downstream: ChunkSink, name: String, chunkCapacity: Int = 1 << 20) {
        self.downstream = downstream
        self.name = name
        self.chunkCapacity = chunkCapacity
    }

    package func write(_ chunk: Chunk) throws {
        try namingStage {
            if let decoder { return try decoder.write(chunk) }
            if pending.isEmpty, let format = PayloadFormat.detect(chunk.bytes, atEnd: false) {
                return try start(format).write(chunk)
            }
            pending += chunk.bytes
            chunk.recycle()
            if let format = pending.withUnsafeBytes({ PayloadFormat.detect($0, atEnd: false) }) {
                try flushPending(into: try start(format))
            }
        }
    }

    package func finish() throws {
        try namingStage {
            if decoder == nil {
                let format = pending.withUnsafeBytes { PayloadFormat.detect($0, atEnd: true) } ?? .plain
                try flushPending(into: try start(format))
            }
            try (decoder ?? downstream).finish()
        }
    }

    /// The decoder's own failures carry the stage; the downstream's pass as they are.
    private func namingStage(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as CompressionError {
            throw StageError(stage: "decompressing \(format?.rawValue ?? "")", underlying: error)
        }
    }

    package func abort(_ error: Error) {
        (decoder ?? downstream).abort(error)
    }

    private func start(_ format: PayloadFormat) throws -> ChunkSink {
        self.format = format
        let made: ChunkSink = switch format {
        case .gzip: try GzipDecoder(downstream: downstream, name: name, chunkCapacity: chunkCapacity)
        case .zstd: try ZstdDecoder(downstream: downstream, name: name, chunkCapacity: chunkCapacity)
        case .plain: downstream
        }
        decoder = made
        return made
    }

    /// Hands the held-back first bytes on in a chunk of their own (a few bytes, once).
    private func flushPending(into sink: ChunkSink) throws {
        guard !pending.isEmpty else { return }
        let chunk = Chunk(capacity: pending.count)
        pending.withUnsafeBytes { _ = chunk.append($0) }
        chunk.sourceCount = chunk.count
        pending = []
        try sink.write(chunk)
    }
}
