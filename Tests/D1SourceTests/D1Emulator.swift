import Foundation
import TestSupport

/// One `scripts/d1_emulator.py` process on a free loopback port, serving the databases of its
/// own folder, with the fault options a test asks for. Stopped by `stop()`.
final class D1Emulator: @unchecked Sendable {
    static let token = "test-token-d1"
    static let account = "acct0123"
    let folder: String
    let baseURL: String
    private let process: Process

    /// Starts the emulator over `folder` (databases are `<name>.sqlite3` files already in it).
    init(folder: String, arguments: [String] = []) throws {
        self.folder = folder
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "\(Fixtures.packageRoot)/scripts/d1_emulator.py", "--folder", folder,
                             "--token", Self.token, "--account", Self.account, "--port", "0"] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        // The first line is `port N` once the socket listens.
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let byte = output.fileHandleForReading.readData(ofLength: 1)
            if byte.isEmpty { break }
            line.append(byte)
        }
        let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.hasPrefix("port "), let port = Int(text.dropFirst(5)) else {
            kill(process.processIdentifier, SIGKILL)
            throw EmulatorError(message: "the D1 emulator did not start: \(text)")
        }
        baseURL = "http://127.0.0.1:\(port)/client/v4"
    }

    struct EmulatorError: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    /// SIGKILL: the emulator inherits the blocked signal mask of the test thread that spawned it,
    /// so SIGTERM would stay pending and `waitUntilExit` would wait for ever.
    func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// The environment a `backstream` process (or `D1Location`) reads.
    func environment(token: String = D1Emulator.token) -> [String: String] {
        ["CLOUDFLARE_API_TOKEN": token, "CLOUDFLARE_API_BASE_URL": baseURL, "CLOUDFLARE_ACCOUNT_ID": Self.account]
    }

    /// Copies `path` into the folder as database `name`; call before `init` serves it.
    static func place(_ path: String, in folder: String, as name: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: path, toPath: "\(folder)/\(name).sqlite3")
    }
}
