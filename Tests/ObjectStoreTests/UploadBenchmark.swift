import ChunkIO
import Foundation
import Testing
@testable import ObjectStore

/// Not a test: scripts/bench-upload.sh runs it with BACKSTREAM_BENCH_INPUT (a file) to time a
/// streamed multipart upload of that file to moto and report throughput and peak RSS.
struct UploadBenchmark {
    static let input = ProcessInfo.processInfo.environment["BACKSTREAM_BENCH_INPUT"]

    @Test(.enabled(if: input != nil, "set BACKSTREAM_BENCH_INPUT (scripts/bench-upload.sh does)"))
    func streamFileToS3() throws {
        let path = try #require(Self.input)
        let env = try S3TestEnvironment()
        let concurrency = ProcessInfo.processInfo.environment["BACKSTREAM_BENCH_CONCURRENCY"].flatMap { Int($0) }
        let configuration = S3Configuration(endpoint: env.endpoint, region: env.region, accessKeyId: env.accessKey,
                                            secretAccessKey: env.secretKey, maxConcurrentParts: concurrency)
        let store = try S3Store(bucket: env.bucket, configuration: configuration)
        let file = try #require(FileHandle(forReadingAtPath: path))
        defer { try? file.close() }
        let rssBefore = Self.peakRSSKiB()
        let start = Date()
        let upload = try store.makeUpload(key: "bench/stream.bin", metadata: [:], contentType: "application/octet-stream", sizeHint: nil)
        let pool = ChunkPool(size: 4, chunkCapacity: 1 << 20)
        var total = 0
        while let data = try file.read(upToCount: pool.chunkCapacity), !data.isEmpty {
            let chunk = try pool.take()
            data.withUnsafeBytes { _ = chunk.append($0) }
            total += chunk.count
            try upload.write(chunk)
        }
        try upload.finish()
        let seconds = Date().timeIntervalSince(start)
        let info = try #require(try store.head(key: "bench/stream.bin"))
        #expect(info.size == total)
        let mib = Double(total) / 1_048_576
        print(String(format: "BENCH backstream-objectstore bytes=%d seconds=%.2f MiB/s=%.1f peak_rss_kib_before=%d peak_rss_kib_after=%d parts_in_flight=%d part_size=%d",
                     total, seconds, mib / seconds, rssBefore, Self.peakRSSKiB(), configuration.maxConcurrentParts,
                     configuration.defaultPartSize))
    }

    static func peakRSSKiB() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss
    }
}
