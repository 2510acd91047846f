import Foundation
import ObjectStore

/// The few D1 HTTP calls a backup makes, over libcurl, with the API's envelope unwrapped and
/// 429 / 5xx / dropped connections retried with backoff (honouring `Retry-After`). A call that
/// is not idempotent (an import's ingest) is retried only after a 429, which D1 answers before
/// doing anything, so no request applies twice. Not thread-safe: one per reading thread.
package final class D1Client {
    package struct Retry: Sendable {
        package var attempts = 8
        package var firstDelay: TimeInterval = 0.25
        package var maxDelay: TimeInterval = 30
        package init() {}
    }

    package let location: D1Location
    package var retry = Retry()
    /// Requests sent, retries included (for tests and benchmarks).
    package private(set) var requestCount = 0
    package private(set) var retryCount = 0
    private let handle: CurlHandle

    package init(location: D1Location) throws {
        self.location = location
        do {
            handle = try CurlHandle()
        } catch {
            throw D1Error(.unavailable, "cannot start an HTTP client for D1: \(error)")
        }
    }

    var databasesURL: String { "\(location.baseURL)/accounts/\(percentEncoded(location.account))/d1/database" }

    /// The database's id: `location.database` when it is one, else the id of the database so named.
    package func resolveDatabaseID() throws -> String {
        let wanted = location.database
        let url = "\(databasesURL)?name=\(percentEncoded(wanted))&per_page=100"
        let answer = try call("GET", url, body: nil, what: "listing the D1 databases")
        let list = answer["result"] as? [[String: Any]] ?? []
        if let match = list.first(where: { $0["uuid"] as? String == wanted || $0["name"] as? String == wanted }),
           let id = match["uuid"] as? String {
            return id
        }
        // The name filter does not match ids: an id is taken as given, and a wrong one fails on use.
        if Self.looksLikeID(wanted) { return wanted }
        throw D1Error(.notFound, "D1 account \(location.account) has no database named \(wanted)")
    }

    static func looksLikeID(_ text: String) -> Bool {
        text.count == 36 && text.allSatisfy { $0.isHexDigit || $0 == "-" }
    }

    /// The database's current Time Travel bookmark.
    package func bookmark(database id: String) throws -> String {
        let answer = try call("GET", "\(databasesURL)/\(percentEncoded(id))/time_travel/bookmark", body: nil,
                              what: "reading the D1 bookmark")
        guard let result = answer["result"] as? [String: Any], let bookmark = result["bookmark"] as? String else {
            throw D1Error(.badAnswer, "D1 answered the bookmark call without a bookmark")
        }
        return bookmark
    }

    /// Runs `statements` as one batch (one transaction) through `/raw`; one row list per statement.
    package func raw(database id: String, _ statements: [String]) throws -> [[[Any]]] {
        let batch = statements.map { ["sql": $0] }
        let body = try JSONSerialization.data(withJSONObject: ["batch": batch])
        let answer = try call("POST", "\(databasesURL)/\(percentEncoded(id))/raw", body: body, what: "querying D1")
        guard let results = answer["result"] as? [[String: Any]], results.count == statements.count else {
            throw D1Error(.badAnswer, "D1 answered a batch of \(statements.count) statements with a different number of results")
        }
        return try results.map { result in
            guard let shaped = result["results"] as? [String: Any], let rows = shaped["rows"] as? [[Any]] else {
                throw D1Error(.badAnswer, "D1 answered a query without its rows")
            }
            return rows
        }
    }

    /// One call with retries; returns the envelope of a successful answer.
    func call(_ method: String, _ url: String, body: Data?, what: String, idempotent: Bool = true) throws -> [String: Any] {
        var delay = retry.firstDelay
        var lastProblem = ""
        for attempt in 1...max(1, retry.attempts) {
            if attempt > 1 { retryCount += 1 }
            requestCount += 1
            let response: HTTPResponse
            do {
                response = try send(method, url, body: body)
            } catch {
                lastProblem = "\(error)"
                guard idempotent else { break }
                pause(&delay, retryAfter: nil)
                continue
            }
            if response.status == 429 || (response.status >= 500 && idempotent) {
                lastProblem = "HTTP \(response.status)\(Self.firstError(response.body).map { ": \($0)" } ?? "")"
                pause(&delay, retryAfter: response.headers["retry-after"].flatMap { TimeInterval($0) })
                continue
            }
            // 16 MiB is the most CurlHandle collects: a longer answer arrives cut.
            if response.body.count >= 16 << 20 {
                throw D1Error(.tooLarge, "D1 answered more than 16 MiB for one request while \(what)")
            }
            let envelope = Self.parse(response.body)
            if response.status == 401 || response.status == 403 {
                let cause = envelope.flatMap(Self.errorText) ?? "HTTP \(response.status)"
                throw D1Error(.authentication, "D1 refused the API token (\(cause), HTTP \(response.status)); check CLOUDFLARE_API_TOKEN and that it may read D1 in account \(location.account)")
            }
            guard let envelope else {
                // An answer cut inside its body (a dropped connection curl did not notice).
                lastProblem = "HTTP \(response.status) with an answer that is not JSON"
                guard idempotent else { break }
                pause(&delay, retryAfter: nil)
                continue
            }
            guard (200..<300).contains(response.status), envelope["success"] as? Bool == true else {
                let cause = Self.errorText(envelope) ?? "HTTP \(response.status)"
                let code: D1Error.Code = response.status == 404 ? .notFound : .apiError
                throw D1Error(code, "D1 failed \(what) in account \(location.account): \(cause)")
            }
            return envelope
        }
        if !idempotent { throw D1Error(.unavailable, "D1 failed \(what), which is not retried: \(lastProblem)") }
        throw D1Error(.unavailable, "D1 kept failing \(what) after \(retry.attempts) tries: \(lastProblem)")
    }

    /// PUTs the open file `descriptor` (`size` bytes) to a presigned URL: no token goes there.
    /// Returns the answer; the caller judges it (a retry needs the file rewound first).
    func upload(_ url: String, file descriptor: Int32, size: Int) throws -> HTTPResponse {
        requestCount += 1
        let request = HTTPRequest(method: "PUT", url: url, headers: [("Content-Type", "application/sql")])
        return try handle.performUploading(request, file: descriptor, size: size, connectTimeout: 15, stallTimeout: 60, service: "D1 upload")
    }

    private func send(_ method: String, _ url: String, body: Data?) throws -> HTTPResponse {
        var headers = [(name: "Authorization", value: "Bearer \(location.token)")]
        if body != nil { headers.append(("Content-Type", "application/json")) }
        let request = HTTPRequest(method: method, url: url, headers: headers)
        let payload = body ?? Data()
        return try payload.withUnsafeBytes { bytes in
            try handle.performCollecting(request, body: bytes, connectTimeout: 15, stallTimeout: 60, service: "D1")
        }
    }

    private func pause(_ delay: inout TimeInterval, retryAfter: TimeInterval?) {
        let wait = min(retry.maxDelay, max(retryAfter ?? 0, delay))
        delay = min(retry.maxDelay, delay * 2)
        if wait > 0 { Thread.sleep(forTimeInterval: wait) }
    }

    static func errorText(_ envelope: [String: Any]) -> String? {
        guard let errors = envelope["errors"] as? [[String: Any]], !errors.isEmpty else { return nil }
        return errors.map { error in
            let message = error["message"] as? String ?? "unknown error"
            return (error["code"] as? Int).map { "\(message) (code \($0))" } ?? message
        }.joined(separator: "; ")
    }

    static func firstError(_ body: [UInt8]) -> String? {
        parse(body).flatMap(errorText)
    }

    /// The JSON object `body` holds, parsed in place: an answer is a few MiB, and a `Data` copy
    /// of it would be one more while the parser makes its own.
    static func parse(_ body: [UInt8]) -> [String: Any]? {
        body.withUnsafeBytes { buffer -> [String: Any]? in
            guard let base = buffer.baseAddress else { return nil }
            // Read only, and gone before the closure returns.
            let data = Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: base), count: buffer.count, deallocator: .none)
            return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        }
    }

    func percentEncoded(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}
