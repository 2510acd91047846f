import Foundation
import ObjectStore

/// Loads a SQL file into a D1 database through the import API: init with the file's MD5 →
/// PUT to the upload URL it answers → ingest → poll until complete or error. D1 runs the file
/// as one unit and rolls a failed import back. Also what a restore checks first: whether the
/// database holds anything, and its bookmark (to roll back to).
package final class D1Importer {
    package struct Options: Sendable {
        package var retry = D1Client.Retry()
        /// Polls start this far apart and back off to `maxPollDelay`; the import fails after `pollTimeout`.
        package var firstPollDelay: TimeInterval = 0.2
        package var maxPollDelay: TimeInterval = 5
        package var pollTimeout: TimeInterval = 3600
        package init() {}
    }

    /// What D1 reported for a finished import.
    package struct Outcome: Sendable {
        /// The bookmark the import started from (the state before it) and the one after it.
        package var startBookmark: String
        package var finalBookmark: String
        package var queries: Int
    }

    package let location: D1Location
    package let databaseID: String
    private let client: D1Client
    private let options: Options

    /// Resolves the database (by id or name); fails at the check stage.
    package init(location: D1Location, options: Options = Options()) throws {
        self.location = location
        self.options = options
        do {
            client = try D1Client(location: location)
            client.retry = options.retry
            databaseID = try client.resolveDatabaseID()
        } catch {
            throw D1RestoreError(.check, "\(error)")
        }
    }

    private var importURL: String { "\(client.databasesURL)/\(client.percentEncoded(databaseID))/import" }

    /// Names of the objects a restore would collide with: every table, view, index and trigger
    /// but SQLite's and D1's own (`sqlite_*`, `_cf_*`). At most `limit` of them.
    package func userObjects(limit: Int = 5) throws -> [String] {
        let sql = "SELECT type || ' ' || name FROM sqlite_schema WHERE name NOT LIKE '\\_cf\\_%' ESCAPE '\\' "
            + "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY rowid LIMIT \(limit)"
        do {
            return try client.raw(database: databaseID, [sql])[0].compactMap { $0.first as? String }
        } catch {
            throw D1RestoreError(.check, "\(error)")
        }
    }

    /// The database's current Time Travel bookmark.
    package func bookmark() throws -> String {
        do {
            return try client.bookmark(database: databaseID)
        } catch {
            throw D1RestoreError(.check, "\(error)")
        }
    }

    /// The commands that put the database back at `bookmark` (wrangler's, and the API call).
    package func rollbackCommands(to bookmark: String) -> [String] {
        let url = "\(client.databasesURL)/\(client.percentEncoded(databaseID))/time_travel/restore?bookmark=\(client.percentEncoded(bookmark))"
        return ["wrangler d1 time-travel restore \(location.database) --bookmark=\(bookmark)",
                "curl -X POST -H \"Authorization: Bearer $CLOUDFLARE_API_TOKEN\" \"\(url)\""]
    }

    /// Uploads and runs `file` (closed: its MD5 known, rewound).
    package func run(_ file: D1ImportFile) throws -> Outcome {
        let initAnswer = try result(stage: .upload, body: ["action": "init", "etag": file.md5], what: "starting the import")
        // As wrangler reads it: without an upload URL, D1 already holds this file (same MD5) and
        // the answer is the import's first status.
        guard let uploadURL = initAnswer["upload_url"] as? String else { return try poll(initAnswer, stage: .upload) }
        guard let filename = initAnswer["filename"] as? String else {
            throw D1RestoreError(.upload, "D1 answered the import init with an upload URL but no file name")
        }
        try upload(file, to: uploadURL)
        let ingest = try result(stage: .ingest, body: ["action": "ingest", "etag": file.md5, "filename": filename],
                                what: "ingesting the import", idempotent: false)
        return try poll(ingest, stage: .ingest)
    }

    /// PUTs the file, again from its start after a dropped connection or a 5xx (a PUT of the
    /// same bytes to the same URL can apply twice harmlessly).
    private func upload(_ file: D1ImportFile, to url: String) throws {
        var response: HTTPResponse?
        var delay = options.retry.firstDelay
        for attempt in 1...max(1, options.retry.attempts) {
            if attempt > 1 {
                Thread.sleep(forTimeInterval: delay)
                delay = min(options.retry.maxDelay, delay * 2)
            }
            try file.rewind()
            do {
                let answer = try client.upload(url, file: file.fileDescriptor, size: file.size)
                response = answer
                if answer.status < 500 { break }
            } catch {
                guard attempt < options.retry.attempts else { throw D1RestoreError(.upload, "the PUT of the SQL file failed: \(error)") }
            }
        }
        guard let response, (200..<300).contains(response.status) else {
            let detail = response.map { String(decoding: $0.body.prefix(300), as: UTF8.self).replacingOccurrences(of: "\n", with: " ") } ?? ""
            throw D1RestoreError(.upload, "the upload URL answered HTTP \(response?.status ?? 0): \(detail)")
        }
        let etag = response.headers["etag"]?.trimmingCharacters(in: CharacterSet(charactersIn: "\"")).lowercased()
        guard etag == file.md5 else {
            throw D1RestoreError(.upload, "the upload's ETag \(response.headers["etag"] ?? "(none)") is not the file's MD5 \(file.md5): the file was damaged on the way")
        }
    }

    /// Follows an import from its first status answer (`first`, from `stage`) until it is
    /// complete or failed, polling with backoff.
    private func poll(_ first: [String: Any], stage: D1RestoreError.Stage) throws -> Outcome {
        guard let bookmark = first["at_bookmark"] as? String else {
            throw D1RestoreError(stage, "D1 answered without the import's bookmark")
        }
        let started = Date()
        var delay = options.firstPollDelay
        var answer = first, answerStage = stage
        while true {
            switch answer["status"] as? String {
            case "complete":
                let result = answer["result"] as? [String: Any] ?? [:]
                guard let final = result["final_bookmark"] as? String else {
                    throw D1RestoreError(answerStage, "D1 reported the import complete without its final bookmark")
                }
                return Outcome(startBookmark: bookmark, finalBookmark: final, queries: (result["num_queries"] as? NSNumber)?.intValue ?? 0)
            case "error":
                let cause = (answer["error"] as? String).map { $0.replacingOccurrences(of: "\n", with: " ") } ?? "no reason given"
                throw D1RestoreError(answerStage, "D1 refused the import and rolled it back: \(cause)")
            default:
                guard Date().timeIntervalSince(started) < options.pollTimeout else {
                    throw D1RestoreError(.poll, "the import was still running after \(Int(options.pollTimeout)) s; it may yet finish (poll bookmark \(bookmark))")
                }
                Thread.sleep(forTimeInterval: delay)
                delay = min(options.maxPollDelay, delay * 1.5)
                answer = try result(stage: .poll, body: ["action": "poll", "current_bookmark": bookmark], what: "polling the import")
                answerStage = .poll
            }
        }
    }

    /// The `result` of one import call, failures named by `stage`.
    private func result(stage: D1RestoreError.Stage, body: [String: String], what: String, idempotent: Bool = true) throws -> [String: Any] {
        do {
            let data = try JSONSerialization.data(withJSONObject: body)
            let answer = try client.call("POST", importURL, body: data, what: what, idempotent: idempotent)
            guard let result = answer["result"] as? [String: Any] else {
                throw D1Error(.badAnswer, "D1 answered \(what) without a result")
            }
            return result
        } catch let error as D1RestoreError {
            throw error
        } catch {
            throw D1RestoreError(stage, "\(error)")
        }
    }
}

