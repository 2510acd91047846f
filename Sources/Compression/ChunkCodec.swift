import ChunkIO

/// How one chunk becomes one independently decodable frame of a compressed format (a gzip
/// member): concatenated frames are one valid stream, so `ParallelCompressorSink`
/// can encode chunks on several threads and only their order is shared. A new format adds a
/// codec; the threads, ordering, pools and failure handling stay in the sink.
///
/// Each worker thread owns one instance, made for it before the threads start, so an instance
/// never runs on two threads at once. Codecs wrapping a C context are `@unchecked Sendable` on
/// that ground: they move to their thread once and stay there.
package protocol ChunkCodec: AnyObject, Sendable {
    /// The format's short name ("gzip"), which names the sink's threads.
    static var name: String { get }

    /// The largest frame `compress` can produce from `inputCapacity` bytes: output buffers are
    /// sized from it, so a chunk never fails for lack of room.
    func outputBound(forInput inputCapacity: Int) -> Int

    /// Encodes `input.bytes` into `output.base` (at most `output.capacity` bytes) and returns the
    /// frame's length, plus the CRC-32 of the input when the format computed it anyway (gzip's
    /// trailer); nil lets the sink compute it. The input is empty only when the whole stream
    /// was, and the frame of an empty input must still be a valid stream of the format.
    func compress(_ input: Chunk, into output: Chunk) throws -> (count: Int, crc32: UInt32?)
}
