import Backup
import Foundation
import Hummingbird
import Logging

/// `/admin/backups`: server-rendered HTML. The admin token is entered once, kept in
/// sessionStorage and in a SameSite=Strict cookie scoped to /admin so the server can render
/// the list; the buttons call the JSON API with the token as a Bearer header.
struct AdminPageController {
    typealias Context = ServerRequestContext
    let configuration: ServerConfiguration
    let coordinator: BackupCoordinator
    let session: AdminSessionMiddleware
    let bearer: AdminAuthMiddleware
    let logger: Logger

    func addRoutes(to router: Router<Context>) {
        router.get("/admin") { _, _ in Response(status: .seeOther, headers: [.location: "/admin/backups"]) }
        router.group("/admin/backups").add(middleware: session).get(use: page)
        router.group("/admin/session").add(middleware: bearer).post(use: createSession)
        router.delete("/admin/session", use: deleteSession)
    }

    /// `POST /admin/session` with the token as Bearer: sets the session cookie (HttpOnly, so
    /// scripts cannot read it; SameSite=Strict; Secure over HTTPS or when configured).
    @Sendable func createSession(_ request: Request, context: Context) async throws -> Response {
        // Percent-encoded: a cookie value must not hold spaces, quotes, commas or semicolons.
        let safe = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")
        let raw = request.headers[.authorization].flatMap(AdminAuthenticator.bearer) ?? ""
        let token = raw.addingPercentEncoding(withAllowedCharacters: safe) ?? ""
        var response = try OrderedJSONEncoder.response(SuccessAnswer())
        response.setCookie(Cookie(name: AdminSessionMiddleware.cookieName, value: token, path: "/admin",
                                  secure: secureCookies(request), httpOnly: true, sameSite: .strict))
        return response
    }

    /// `DELETE /admin/session`: clears the cookie.
    @Sendable func deleteSession(_ request: Request, context: Context) async throws -> Response {
        var response = try OrderedJSONEncoder.response(SuccessAnswer())
        response.setCookie(Cookie(name: AdminSessionMiddleware.cookieName, value: "", maxAge: 0, path: "/admin",
                                  secure: secureCookies(request), httpOnly: true, sameSite: .strict))
        return response
    }

    /// Secure when told so, or when a proxy says the client used HTTPS.
    func secureCookies(_ request: Request) -> Bool {
        if configuration.secureCookies { return true }
        let proto = request.headers.first { $0.name.canonicalName == "x-forwarded-proto" }?.value.lowercased() ?? ""
        return proto.split(separator: ",").first.map { $0.trimmingCharacters(in: .whitespaces) } == "https"
    }

    @Sendable func page(_ request: Request, context: Context) async throws -> Response {
        switch context.session?.outcome ?? .unauthorized("missing bearer token") {
        case .admin:
            do {
                // A fleet shows every database and the backups of the one chosen (`?database=`).
                let snapshots = await coordinator.snapshots()
                let chosenName = request.uri.queryParameters.get("database")
                guard let chosen = snapshots.first(where: { $0.database.name == chosenName }) ?? snapshots.first else {
                    throw ServerError.notFound("no database to show")
                }
                let destination = chosen.database.destination
                let entries = try await BlockingWork.run {
                    try BackupListing.entries(in: destination.store, prefix: destination.prefix, withMetadata: false)
                }
                return Self.html(renderList(entries, chosen: chosen, fleet: configuration.fleet == nil ? nil : snapshots), status: .ok)
            } catch {
                let (_, sentence) = PublicError.describe(error)
                let requestID = PublicError.newRequestID()
                logger.error("listing the backups failed", metadata: ["request_id": "\(requestID)", "error": "\(error)"])
                let note = "<p class=\"error\">Cannot list backups: \(AdminHTML.escape(sentence)) (request id \(requestID))</p>"
                return Self.html(AdminHTML.page(title: "Backups", body: note), status: .internalServerError)
            }
        case .unauthorized(let reason):
            let note = context.session?.hadToken == true ? "Token refused: \(reason)." : ""
            return Self.html(AdminHTML.signIn(note: note), status: .unauthorized)
        case .forbidden(let reason):
            return Self.html(AdminHTML.signIn(note: "This account cannot manage backups: \(reason)."), status: .forbidden)
        case .unavailable(let reason):
            return Self.html(AdminHTML.signIn(note: "\(reason)."), status: .serviceUnavailable)
        }
    }

    private func renderList(_ entries: [BackupEntry], chosen: DatabaseCoordinator.Snapshot,
                            fleet: [DatabaseCoordinator.Snapshot]?) -> String {
        let now = configuration.clock.now()
        let database = chosen.database
        var status = ""
        if let fleet {
            status += "<section id=\"databases\"><h2>Databases</h2><table><thead><tr><th>Database</th><th>Schedule</th>"
            status += "<th>Next run</th><th>Last run</th><th>Last success</th></tr></thead><tbody>"
            for snapshot in fleet {
                let name = snapshot.database.name
                status += "<tr data-database=\"\(AdminHTML.escape(name))\"><td><a href=\"/admin/backups?database=\(AdminHTML.escape(name))\">"
                status += "\(AdminHTML.escape(name))</a></td><td>\(AdminHTML.escape(snapshot.database.schedule?.expression ?? "off"))</td>"
                status += "<td>\(snapshot.nextScheduledRun.map { BackupMetadata.iso8601($0) } ?? "none")</td>"
                status += "<td class=\"last \(snapshot.lastRun.map { $0.ok ? "ok" : "error" } ?? "")\">\(AdminHTML.escape(Self.lastText(snapshot.lastRun)))</td>"
                status += "<td>\(snapshot.lastSuccess.map { BackupMetadata.iso8601($0.finished) } ?? "never")</td></tr>"
            }
            status += "</tbody></table></section>"
        }
        status += "<section id=\"status\"><dl>"
        let shown = fleet == nil ? (database.source as NSString).lastPathComponent : database.name
        status += "<dt>Database</dt><dd id=\"database\">\(AdminHTML.escape(shown))</dd>"
        status += "<dt>Store</dt><dd>\(AdminHTML.escape(database.destination.store.displayName))</dd>"
        status += "<dt>Schedule</dt><dd>\(AdminHTML.escape(database.schedule?.expression ?? "off"))</dd>"
        status += "<dt>Next scheduled run</dt><dd id=\"next-run\">\(chosen.nextScheduledRun.map { BackupMetadata.iso8601($0) } ?? "none")</dd>"
        let last = chosen.lastRun
        status += "<dt>Last run</dt><dd id=\"last-run\" class=\"\(last.map { $0.ok ? "ok" : "error" } ?? "")\">\(AdminHTML.escape(Self.lastText(last)))</dd>"
        if let queued = chosen.queuedSince {
            status += "<dt>Queued</dt><dd>waiting for a backup slot since \(BackupMetadata.iso8601(queued))</dd>"
        }
        if let running = chosen.running {
            status += "<dt>Running</dt><dd>\(running.trigger.rawValue) backup since \(BackupMetadata.iso8601(running.started))</dd>"
        }
        status += "</dl></section>"
        var rows = ""
        for entry in entries {
            let key = entry.info.key
            let encoded = key.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? key
            rows += "<tr data-key=\"\(AdminHTML.escape(encoded))\"><td class=\"key\">\(AdminHTML.escape(key))</td>"
            rows += "<td>\(AdminHTML.size(entry.info.size))</td><td title=\"\(BackupMetadata.iso8601(entry.key.timestamp))\">\(AdminHTML.age(now.timeIntervalSince(entry.key.timestamp)))</td>"
            rows += "<td><button class=\"download\">Download</button> <button class=\"verify\">Verify</button></td><td class=\"result\"></td></tr>"
        }
        let total = "\(entries.count) backup\(entries.count == 1 ? "" : "s")"
        let api = fleet == nil ? "/api/admin/backup" : "/api/admin/databases/\(database.name)/backup"
        let body = AdminHTML.fill(AdminHTML.listBody, ["status": status, "rows": rows, "total": total, "api": AdminHTML.escape(api)])
        return AdminHTML.page(title: "Backups", body: body, script: AdminHTML.listScript)
    }

    private static func lastText(_ last: BackupRun?) -> String {
        guard let last else { return "no backup run by this server yet" }
        let outcome = last.ok ? "succeeded" : "failed: \(last.error ?? "")"
        return "\(last.trigger) backup \(outcome) at \(BackupMetadata.iso8601(last.finished))"
    }

    static func html(_ text: String, status: HTTPResponse.Status) -> Response {
        Response(status: status, headers: [
            .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
            .contentSecurityPolicy: "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        ], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
