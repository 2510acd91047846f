import Foundation

/// Where the benchmark inputs live. The repository root is found from this source file's
/// location (Benchmarks/Sources/BenchmarkFixtures/), or from `BACKSTREAM_ROOT` when set.
public enum FixturePaths {
    public static let repositoryRoot: URL = {
        if let root = ProcessInfo.processInfo.environment["BACKSTREAM_ROOT"], !root.isEmpty {
            return URL(fileURLWithPath: root, isDirectory: true)
        }
        return URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()  // BenchmarkFixtures
            .deletingLastPathComponent()  // Sources
            .deletingLastPathComponent()  // Benchmarks
            .deletingLastPathComponent()
    }()

    public static var benchmarksDirectory: URL { repositoryRoot.appendingPathComponent("Benchmarks", isDirectory: true) }

    /// Generated databases and cached inputs; gitignored.
    public static var dataDirectory: URL { benchmarksDirectory.appendingPathComponent("data", isDirectory: true) }

    /// The Chinook sample database the tests use.
    public static var chinook: URL {
        repositoryRoot.appendingPathComponent("Tests/Fixtures/chinook.sqlite")
    }

    /// `url`'s path, or an error naming it when the file is not there.
    public static func existing(_ url: URL) throws -> String {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw FixtureError("\(url.path) does not exist; set BACKSTREAM_ROOT to the repository root if it lives elsewhere.")
        }
        return url.path
    }
}
