import ChunkIO
import Compression
import Foundation
import SQLiteDump

/// `backstream dump`: one snapshot → SQL → (parallel gzip or zstd) → file or standard output.
package struct DumpJob {
    package struct Options: Sendable {
        package var dump = DumpOptions()
        package var compression = CompressionMethod.none
        /// nil: the method's default (gzip 6, zstd 3).
        package var level: Int?
        package var threads = ProcessInfo.processInfo.activeProcessorCount
        /// nil writes to standard output.
        package var outputPath: String?
        /// fsync the output file before renaming it into place.
        package var synchronous = true
        package init() {}
    }

    package struct Outcome: Sendable {
        package var summary: DumpSummary
        package var bytesWritten: Int
        /// CRC-32 of the SQL text, when it was compressed (computed by the compressor's workers).
        package var contentCRC32: UInt32?
    }

    package static func run(databasePath: String, options: Options) throws -> Outcome {
        // Open first: a missing or locked database must not create an output file.
        let dumper = try Dumper(databasePath: databasePath, options: options.dump)
        let file = try options.outputPath.map { try FileSink.atomicFile(at: $0) } ?? FileSink.standardOutput()
        file.synchronous = options.synchronous
        let writerStage = ThreadedSink(downstream: file)
        var compressor: (any CompressingSink)?
        let head: ChunkSink
        if options.compression != .none {
            do {
                let sink = try options.compression.makeSink(downstream: writerStage, level: options.level,
                                                            threads: options.threads, chunkCapacity: options.dump.chunkSize)
                compressor = sink
                head = sink
            } catch {
                writerStage.abort(error)
                throw error
            }
        } else {
            head = writerStage
        }
        let summary = try dumper.run(into: head)
        return Outcome(summary: summary, bytesWritten: file.bytesWritten, contentCRC32: compressor?.contentCRC32)
    }
}
