/// A pipeline stage that consumes chunks in order.
///
/// `write` takes ownership of the chunk: the sink recycles it when done. `finish` flushes and
/// seals the output; `abort` discards whatever was written (no partial file, no partial object).
/// A sink is driven by one thread at a time.
package protocol ChunkSink: AnyObject {
    func write(_ chunk: Chunk) throws
    func finish() throws
    func abort(_ error: Error)
}
