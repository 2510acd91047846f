import Foundation

/// Paths to files the tests share: the repository root, fixtures and the built CLI.
package enum Fixtures {
    /// The package root, found from this source file's location.
    package static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// `Tests/Fixtures/chinook.sqlite`, a real database (MIT, see chinook-LICENSE.md beside it).
    package static var chinook: String { "\(packageRoot)/Tests/Fixtures/chinook.sqlite" }

    /// The `backstream` binary that `swift build` put next to the test bundle.
    package static var backstreamBinary: String {
        let bundle = Bundle.main.bundleURL.deletingLastPathComponent()
        let candidates = [
            ProcessInfo.processInfo.environment["BACKSTREAM_BIN"],
            bundle.appendingPathComponent("backstream").path,
            Bundle.main.bundleURL.appendingPathComponent("backstream").path,
            "\(packageRoot)/.build/debug/backstream",
        ].compactMap { $0 }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[candidates.count - 1]
    }

    /// Copies a fixture into `dir` so a test never writes to the shared original.
    package static func copy(_ source: String, to dir: TemporaryDirectory, as name: String) throws -> String {
        let target = dir.file(name)
        try FileManager.default.copyItem(atPath: source, toPath: target)
        return target
    }
}
