/// How a dump or a backup is written: gzip (the default the guide's users expect), zstd (faster
/// at a similar size), or plain SQL. Readers never trust this: they sniff `PayloadFormat`.
package enum CompressionMethod: String, CaseIterable, Sendable {
    case gzip, zstd, none

    /// The levels the codec accepts; `none` has no level and ignores the one it is given.
    package var levels: ClosedRange<Int> {
        switch self {
        case .gzip: 1...12
        case .zstd: 1...19
        case .none: 1...1
        }
    }

    /// gzip 4: libdeflate's level 4 already writes no more than `gzip -6` (0.99x on the portal
    /// benchmark database, 0.98x on Chinook) at 30% less CPU than its level 6. zstd 2: with the
    /// long-distance matching `ZstdStreamSink` turns on, level 2 is 3% smaller than
    /// `zstd -3 -T2` at 45% of level 3's CPU.
    package var defaultLevel: Int {
        switch self {
        case .gzip: 4
        case .zstd: 2
        case .none: 1
        }
    }

    /// What follows `.sql` in a file or key name.
    package var nameSuffix: String {
        switch self {
        case .gzip: ".gz"
        case .zstd: ".zst"
        case .none: ""
        }
    }

    package var contentType: String {
        switch self {
        case .gzip: "application/gzip"
        case .zstd: "application/zstd"
        case .none: "application/sql"
        }
    }

    /// `level`, or the method's default when nil; a level outside the codec's range is an error
    /// that names both.
    package func checkedLevel(_ level: Int?) throws -> Int {
        guard let level, self != .none else { return defaultLevel }
        guard levels.contains(level) else {
            throw CompressionError(.invalidLevel, "\(rawValue) level \(level) is out of range; use \(levels.lowerBound) (fastest) to \(levels.upperBound) (smallest)")
        }
        return level
    }
}
