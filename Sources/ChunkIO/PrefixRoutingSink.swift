/// Routes a stream by its first bytes: `route` sees the bytes so far and answers the sink the
/// whole stream goes to, or nil while it needs more (never at the end). The decision usually
/// comes from the first chunk, which then passes on untouched; only a first chunk shorter than
/// what `route` needs is held back, copied once into a chunk of its own.
package final class PrefixRoutingSink: ChunkSink {
    package typealias Route = (_ prefix: UnsafeRawBufferPointer, _ atEnd: Bool) throws -> ChunkSink?

    private let undecided: ChunkSink
    private let route: Route
    private var target: ChunkSink?
    private var pending: [UInt8] = []

    /// - Parameter undecided: the sink aborted when the stream fails before it was routed.
    package init(undecided: ChunkSink, route: @escaping Route) {
        self.undecided = undecided
        self.route = route
    }

    package func write(_ chunk: Chunk) throws {
        if let target { return try target.write(chunk) }
        if pending.isEmpty {
            let routed: ChunkSink?
            do {
                routed = try route(chunk.bytes, false)
            } catch {
                chunk.recycle()
                throw error
            }
            if let routed {
                target = routed
                return try routed.write(chunk)
            }
        }
        pending += chunk.bytes
        chunk.recycle()
        if let routed = try pending.withUnsafeBytes({ try route($0, false) }) { try flushPending(into: routed) }
    }

    package func finish() throws {
        if target == nil {
            try flushPending(into: try pending.withUnsafeBytes { try route($0, true) } ?? undecided)
        }
        try target?.finish()
    }

    package func abort(_ error: Error) {
        (target ?? undecided).abort(error)
    }

    private func flushPending(into sink: ChunkSink) throws {
        target = sink
        guard !pending.isEmpty else { return }
        let chunk = Chunk(capacity: pending.count)
        pending.withUnsafeBytes { _ = chunk.append($0) }
        chunk.sourceCount = chunk.count
        pending = []
        try sink.write(chunk)
    }
}
