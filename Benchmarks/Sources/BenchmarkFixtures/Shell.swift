import Foundation

/// Runs a command to prepare fixtures, failing loudly when it fails.
enum Shell {
    static func run(_ arguments: String...) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw FixtureError("`\(arguments.joined(separator: " "))` exited with status \(process.terminationStatus).")
        }
    }
}

/// A fixture could not be prepared; the message says which and why.
public struct FixtureError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
