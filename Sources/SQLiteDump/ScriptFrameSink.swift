import ChunkIO

/// Passes a script through unchanged (to standard output, for `restore --stdout`) while checking
/// its frame: Backstream's header line first, its completion trailer last. A script without the
/// header is refused before any byte of it goes on, unless foreign scripts are accepted.
package final class ScriptFrameSink: ChunkSink {
    private let downstream: ChunkSink
    private let name: String
    private let accepts: ScriptLoader.Source
    private var head: [UInt8] = []
    private var tail: [UInt8] = []
    private var checkedHeader = false
    package private(set) var isForeign = false
    package private(set) var bytes = 0

    package init(downstream: ChunkSink, name: String, accepts: ScriptLoader.Source) {
        self.downstream = downstream
        self.name = name
        self.accepts = accepts
    }

    /// True when the last line of the script is the completion trailer.
    package var complete: Bool {
        var text = tail
        while let last = text.last, last == 0x0A || last == 0x0D || last == 0x20 { text.removeLast() }
        let lastLine = text.split(separator: 0x0A, omittingEmptySubsequences: false).last ?? []
        return lastLine.starts(with: DumpFormat.trailerPrefix.utf8)
    }

    package func write(_ chunk: Chunk) throws {
        let data = chunk.bytes
        bytes += data.count
        if !checkedHeader {
            head.append(contentsOf: data.prefix(DumpFormat.headerFirstLine.utf8.count - head.count))
            if head.count == DumpFormat.headerFirstLine.utf8.count {
                do { try checkHeader() } catch { chunk.recycle(); throw error }
            }
        }
        tail.append(contentsOf: data.suffix(256))
        if tail.count > 512 { tail.removeFirst(tail.count - 256) }
        try downstream.write(chunk)
    }

    package func finish() throws {
        guard bytes > 0 else { throw DumpFormat.emptyScript(name) }
        if !checkedHeader { try checkHeader() }
        try downstream.finish()
    }

    package func abort(_ error: Error) { downstream.abort(error) }

    private func checkHeader() throws {
        checkedHeader = true
        isForeign = try DumpFormat.checkHeader(head, name: name, accepts: accepts)
    }
}
