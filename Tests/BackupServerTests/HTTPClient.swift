import Foundation
import TestSupport

/// An answer from the server under test, fetched with the real curl.
struct HTTPAnswer: Sendable {
    let status: Int
    let body: Data
    let headers: [String: String]
    var text: String { String(decoding: body, as: UTF8.self) }

    /// The body as a JSON object (fails the test's `try` when it is not one).
    func json() throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: body) as? [String: Any] else {
            throw TestDatabaseError(description: "not a JSON object: \(text)")
        }
        return object
    }
}

/// curl, run without blocking a thread of the cooperative pool (the process is awaited).
enum HTTPClient {
    static func request(_ method: String, _ url: String, bearer: String? = nil, headers: [String] = [],
                        timeout: Int = 60) async throws -> HTTPAnswer {
        let scratch = try TemporaryDirectory("curl")
        defer { scratch.remove() }
        var arguments = ["curl", "-sS", "--max-time", String(timeout), "-X", method, "-o", scratch.file("body"),
                         "-D", scratch.file("headers"), "-w", "%{http_code}"]
        if let bearer { arguments += ["-H", "Authorization: Bearer \(bearer)"] }
        for header in headers { arguments += ["-H", header] }
        arguments.append(url)
        let result = try await run(arguments)
        guard result.status == 0, let status = Int(result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw TestDatabaseError(description: "curl \(method) \(url) failed: \(result.stderrText)")
        }
        var fields: [String: String] = [:]
        let raw = (try? String(contentsOfFile: scratch.file("headers"), encoding: .utf8)) ?? ""
        for line in raw.split(whereSeparator: \.isNewline) {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2 { fields[parts[0].lowercased()] = parts[1].trimmingCharacters(in: .whitespaces) }
        }
        let body = (try? Data(contentsOf: URL(fileURLWithPath: scratch.file("body")))) ?? Data()
        return HTTPAnswer(status: status, body: body, headers: fields)
    }

    /// ProcessRunner.run on a thread of its own: the test awaits the program without holding a
    /// thread of the cooperative pool (2 here), which the in-process server needs, nor one of
    /// libdispatch's global pool, which the server's blocking work shares and which grows slowly.
    static func run(_ arguments: [String], environment: [String: String]? = nil) async throws -> ProcessResult {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try ProcessRunner.run(arguments, environment: environment) }) }.start()
        }
    }
}
