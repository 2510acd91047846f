import Foundation

/// Generated "client portal" databases (Benchmarks/generate-portal-db.sh), the same files
/// bench.py caches in Benchmarks/data/.
public enum PortalDatabase {
    /// The path of a portal database of `sizeMiB`, generated on first use.
    public static func path(sizeMiB: Int) throws -> String {
        let url = FixturePaths.dataDirectory.appendingPathComponent("portal-\(sizeMiB)mb.db")
        if !FileManager.default.fileExists(atPath: url.path) {
            try FileManager.default.createDirectory(at: FixturePaths.dataDirectory, withIntermediateDirectories: true)
            let script = FixturePaths.benchmarksDirectory.appendingPathComponent("generate-portal-db.sh").path
            let temporary = url.path + ".tmp"
            try Shell.run("bash", script, String(sizeMiB), temporary)
            try FileManager.default.moveItem(atPath: temporary, toPath: url.path)
        }
        return url.path
    }

    /// The first `byteCount` bytes of `sqlite3 .dump` of the 50 MiB portal database: realistic
    /// SQL text (unicode, blobs as hex, JSON) for compressor benchmarks. Cached in Benchmarks/data/.
    public static func sqlText(byteCount: Int) throws -> [UInt8] {
        let database = try path(sizeMiB: 50)
        let url = FixturePaths.dataDirectory.appendingPathComponent("portal-50mb-dump-\(byteCount).sql")
        if !FileManager.default.fileExists(atPath: url.path) {
            let temporary = url.path + ".tmp"
            try Shell.run("bash", "-c", "set -o pipefail; sqlite3 \"$0\" .dump | head -c \(byteCount) > \"$1\" || [ $? = 141 ]",
                          database, temporary)
            try FileManager.default.moveItem(atPath: temporary, toPath: url.path)
        }
        let bytes = [UInt8](try Data(contentsOf: url))
        guard bytes.count == byteCount else {
            throw FixtureError("\(url.path) holds \(bytes.count) bytes, not \(byteCount): the portal dump is too short; delete it and raise the database size.")
        }
        return bytes
    }
}
