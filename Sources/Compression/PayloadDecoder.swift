import ChunkIO

/// Decodes whatever `PayloadFormat` the stream starts with (gzip, zstd or plain SQL) into
/// `downstream`: restore and verify read the bytes, not the key's suffix. A damaged or cut
/// stream fails as the stage "decompressing gzip" or "decompressing zstd".
package final class PayloadDecoder: ChunkSink {
    private let downstream: ChunkSink
    private let name: String
    private let chunkCapacity: Int
    private var router: PrefixRoutingSink?
    /// The detected format, once the first bytes arrived.
    package private(set) var format: PayloadFormat?

    /// - Parameters:
    ///   - name: what the stream is (a file, an object key), for error messages.
    ///   - chunkCapacity: the size of the decoded chunks handed downstream.
    package init(downstream: ChunkSink, name: String, chunkCapacity: Int = 1 << 20) {
        self.downstream = downstream
        self.name = name
        self.chunkCapacity = chunkCapacity
        router = PrefixRoutingSink(undecided: downstream) { [unowned self] prefix, atEnd in
            try PayloadFormat.detect(prefix, atEnd: atEnd).map { try start($0) }
        }
    }

    package func write(_ chunk: Chunk) throws {
        try namingStage { try router?.write(chunk) }
    }

    package func finish() throws {
        try namingStage { try router?.finish() }
    }

    package func abort(_ error: Error) {
        router?.abort(error)
    }

    /// The decoder's own failures carry the stage; the downstream's pass as they are.
    private func namingStage(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as CompressionError {
            throw StageError(stage: "decompressing \(format?.rawValue ?? "")", underlying: error)
        }
    }

    private func start(_ format: PayloadFormat) throws -> ChunkSink {
        self.format = format
        return switch format {
        case .gzip: try GzipDecoder(downstream: downstream, name: name, chunkCapacity: chunkCapacity)
        case .zstd: try ZstdDecoder(downstream: downstream, name: name, chunkCapacity: chunkCapacity)
        case .plain: downstream
        }
    }
}
