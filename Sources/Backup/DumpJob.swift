import ChunkIO
import Compression
import Foundation
import SQLiteDump

/// `backstream dump`: one snapshot → SQL → (parallel gzip) → file or standard output.
public struct DumpJob {
    public struct Options: Sendable {
        public var dump = DumpOptions()
        public var gzip = false
        public var level = 6
        public var threads = ProcessInfo.processInfo.activeProcessorCount
        /// nil writes to standard output.
        public var outputPath: String?
        /// fsync the output file before renaming it into place.
        public var synchronous = true
        public init() {}
    }

    public struct Outcome: Sendable {
        public var summary: DumpSummary
        public var bytesWritten: Int
        /// CRC-32 of the SQL text, when it was compressed (it comes free from the gzip members).
        public var contentCRC32: UInt32?
    }

    public static func run(databasePath: String, options: Options) throws -> Outcome {
        // Open first: a missing or locked database must not create an output file.
        let dumper = try Dumper(databasePath: databasePath, options: options.dump)
        let file = try options.outputPath.map { try FileSink.atomicFile(at: $0) } ?? FileSink.standardOutput()
        file.synchronous = options.synchronous
        let writerStage = ThreadedSink(downstream: file)
        var gzip: GzipCompressorSink?
        let head: ChunkSink
        if options.gzip {
            do {
                let compressor = try GzipCompressorSink(downstream: writerStage, level: options.level,
                                                        threads: options.threads, chunkCapacity: options.dump.chunkSize)
                gzip = compressor
                head = compressor
            } catch {
                writerStage.abort(error)
                throw error
            }
        } else {
            head = writerStage
        }
        let summary = try dumper.run(into: head)
        return Outcome(summary: summary, bytesWritten: file.bytesWritten, contentCRC32: gzip?.contentCRC32)
    }
}
