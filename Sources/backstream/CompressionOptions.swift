import ArgumentParser
import Compression
import Foundation

extension CompressionMethod: ExpressibleByArgument {}

/// `--compression`, `--level` and `--threads`, shared by dump, backup and serve.
struct CompressionOptions: ParsableArguments {
    @Option(help: ArgumentHelp("gzip (readable by gunzip), zstd (faster; readable by zstd -d) or none.", valueName: "gzip|zstd|none"))
    var compression: CompressionMethod?

    @Option(help: "Compression level: gzip 1 (fastest) to 12 (smallest), default 4 (libdeflate's 4 is as small as gzip -6), and chunks that are mostly hex-encoded BLOBs always use level 1; zstd 1 to 19, default 2 (with long-distance matching, smaller than zstd -3 and under half its CPU).")
    var level: Int?

    @Option(help: "Compression threads (default: one per core).")
    var threads = ProcessInfo.processInfo.activeProcessorCount

    /// Checks --level against `method`, the one the command settled on.
    func validate(for method: CompressionMethod) throws {
        guard (1...256).contains(threads) else { throw ValidationError("--threads must be between 1 and 256") }
        // Plain SQL has no level; it was always accepted and ignored there.
        guard let level, method != .none else { return }
        guard method.levels.contains(level) else {
            throw ValidationError("--level must be between \(method.levels.lowerBound) and \(method.levels.upperBound) for \(method.rawValue)")
        }
    }
}
