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
        /// Opens a source other than the local file (a D1 database), once per attempt.
        package var openSource: SourceOpener?
        package init() {}
    }

    /// Makes the dumper of one attempt; a remote source that changed mid-read is opened again.
    package typealias SourceOpener = @Sendable (DumpOptions) throws -> Dumper
    /// Reads of a remote source that saw it change before the dump gives up.
    package static let sourceAttempts = 3

    /// Runs `attempt` again (up to `sourceAttempts`) while it fails because the source changed.
    static func retryingChangedSource<T>(_ attempt: () throws -> T) throws -> T {
        var number = 1
        while true {
            do {
                return try attempt()
            } catch let error where number < sourceAttempts && isSourceChanged(error) {
                number += 1
            }
        }
    }

    static func isSourceChanged(_ error: any Error) -> Bool {
        let inner = (error as? StageError)?.underlying ?? error
        return (inner as? DumpError)?.code == .sourceChanged
    }

    package struct Outcome: Sendable {
        package var summary: DumpSummary
        package var bytesWritten: Int
        /// CRC-32 of the SQL text, when it was compressed (computed by the compressor's workers).
        package var contentCRC32: UInt32?
    }

    package static func run(databasePath: String, options: Options) throws -> Outcome {
        try retryingChangedSource { try runOnce(databasePath: databasePath, options: options) }
    }

    private static func runOnce(databasePath: String, options: Options) throws -> Outcome {
        // Open first: a missing or locked database must not create an output file.
        let dumper = try options.openSource?(options.dump) ?? Dumper(databasePath: databasePath, options: options.dump)
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
