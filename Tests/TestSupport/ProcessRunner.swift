import Foundation

/// The result of running a real program (sqlite3, gunzip, aws, the backstream binary).
package struct ProcessResult: Sendable {
    package let status: Int32
    package let stdout: Data
    package let stderr: Data
    package var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    package var stderrText: String { String(decoding: stderr, as: UTF8.self) }
}

package enum ProcessRunner {
    /// Runs `arguments[0]` (looked up on PATH) with the rest as arguments, feeding `input` from a
    /// file when given. Output is collected through files so large outputs cannot deadlock a pipe.
    package static func run(_ arguments: [String], stdinFile: String? = nil,
                           environment: [String: String]? = nil,
                           currentDirectory: String? = nil) throws -> ProcessResult {
        let scratch = try TemporaryDirectory("proc")
        defer { scratch.remove() }
        let outPath = scratch.file("out"), errPath = scratch.file("err")
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        if let environment {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
        let outHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        let errHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        process.standardOutput = outHandle
        process.standardError = errHandle
        if let stdinFile {
            process.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: stdinFile))
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        try process.run()
        process.waitUntilExit()
        try outHandle.close()
        try errHandle.close()
        return ProcessResult(status: process.terminationStatus,
                             stdout: try Data(contentsOf: URL(fileURLWithPath: outPath)),
                             stderr: try Data(contentsOf: URL(fileURLWithPath: errPath)))
    }

    /// Runs a shell pipeline with `bash -o pipefail -c`.
    package static func shell(_ script: String, environment: [String: String]? = nil) throws -> ProcessResult {
        try run(["bash", "-o", "pipefail", "-c", script], environment: environment)
    }
}
