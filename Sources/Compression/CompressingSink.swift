import ChunkIO

/// A compressing stage as the jobs see it, whatever the codec: what it wrote and the CRC-32 of
/// the plain SQL it consumed (the checksum metadata records, the same for every method).
package protocol CompressingSink: ChunkSink {
    /// Bytes handed downstream so far.
    var bytesOut: Int { get }
    /// CRC-32 of all bytes consumed.
    var contentCRC32: UInt32 { get }
}

extension ParallelCompressorSink: CompressingSink {}

/// `none`: the bytes pass unchanged, and the checksum is computed on the way.
extension CRC32Sink: CompressingSink {
    package var bytesOut: Int { bytes }
    package var contentCRC32: UInt32 { value }
}

extension CompressionMethod {
    /// The stage that writes this method into `downstream`; `level` nil is the method's default.
    /// gzip: each chunk one member on `threads` threads of ours; zstd: one frame from `threads`
    /// libzstd workers (see `ZstdStreamSink` for why zstd is not chunked the same way).
    package func makeSink(downstream: ChunkSink, level: Int?, threads: Int, chunkCapacity: Int) throws -> any CompressingSink {
        let level = try checkedLevel(level)
        switch self {
        case .gzip:
            return try GzipCompressorSink(downstream: downstream, level: level, threads: threads, chunkCapacity: chunkCapacity)
        case .zstd:
            return try ZstdStreamSink(downstream: downstream, level: level, threads: threads, chunkCapacity: chunkCapacity)
        case .none:
            return CRC32Sink(downstream: downstream)
        }
    }
}
