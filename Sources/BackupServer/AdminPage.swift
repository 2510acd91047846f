import Backup
import Foundation
import Hummingbird

/// `/admin/backups`: server-rendered HTML. The admin token is entered once, kept in
/// sessionStorage and in a SameSite=Strict cookie scoped to /admin so the server can render
/// the list; the buttons call the JSON API with the token as a Bearer header.
extension BackupServer {
    static let cookieName = "backstream_admin"

    /// `POST /admin/session` with the token as Bearer: sets the session cookie (HttpOnly, so
    /// scripts cannot read it; SameSite=Strict; Secure over HTTPS or when configured).
    /// `DELETE /admin/session` clears it.
    func createSession(_ request: Request, peer: String) async -> Response {
        await admin(request, peer: peer, limited: false) { _ in
            // Percent-encoded: a cookie value must not hold spaces, quotes, commas or semicolons.
            let safe = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")
            let raw = request.headers[.authorization].flatMap(AdminAuthenticator.bearer) ?? ""
            let token = raw.addingPercentEncoding(withAllowedCharacters: safe) ?? ""
            var response = Self.json(.object([("success", .bool(true))]))
            response.setCookie(Cookie(name: Self.cookieName, value: token, path: "/admin",
                                      secure: secureCookies(request), httpOnly: true, sameSite: .strict))
            return response
        }
    }

    func deleteSession(_ request: Request) -> Response {
        var response = Self.json(.object([("success", .bool(true))]))
        response.setCookie(Cookie(name: Self.cookieName, value: "", maxAge: 0, path: "/admin",
                                  secure: secureCookies(request), httpOnly: true, sameSite: .strict))
        return response
    }

    /// Secure when told so, or when a proxy says the client used HTTPS.
    func secureCookies(_ request: Request) -> Bool {
        if configuration.secureCookies { return true }
        let proto = request.headers.first { $0.name.canonicalName == "x-forwarded-proto" }?.value.lowercased() ?? ""
        return proto.split(separator: ",").first.map { $0.trimmingCharacters(in: .whitespaces) } == "https"
    }

    func adminPage(_ request: Request, peer: String) async -> Response {
        let token = request.cookies[Self.cookieName]?.value.removingPercentEncoding.flatMap { $0.isEmpty ? nil : $0 }
        var outcome = await authenticator.authenticate(authorization: token.map { "Bearer \($0)" })
        if token != nil, case .unauthorized = outcome, failures.take("addr:" + peer) != nil {
            outcome = .unauthorized("too many failed attempts; retry later")
        }
        switch outcome {
        case .admin:
            let destination = configuration.destination
            do {
                let entries = try await BlockingWork.run {
                    try BackupListing.entries(in: destination.store, prefix: destination.prefix, withMetadata: false)
                }
                return Self.html(await renderList(entries), status: .ok)
            } catch {
                let (_, sentence) = PublicError.describe(error)
                let requestID = PublicError.newRequestID()
                logger.error("listing the backups failed", metadata: ["request_id": "\(requestID)", "error": "\(error)"])
                return Self.html(AdminHTML.page(title: "Backups", body: "<p class=\"error\">Cannot list backups: \(AdminHTML.escape(sentence)) (request id \(requestID))</p>"),
                                 status: .internalServerError)
            }
        case .unauthorized(let reason):
            let note = token == nil ? "" : "Token refused: \(reason)."
            return Self.html(AdminHTML.signIn(note: note), status: .unauthorized)
        case .forbidden(let reason):
            return Self.html(AdminHTML.signIn(note: "This account cannot manage backups: \(reason)."), status: .forbidden)
        case .unavailable(let reason):
            return Self.html(AdminHTML.signIn(note: "\(reason)."), status: .serviceUnavailable)
        }
    }

    private func renderList(_ entries: [BackupEntry]) async -> String {
        let now = configuration.clock.now()
        let next = await coordinator.nextScheduledRun, last = await coordinator.lastRun, running = await coordinator.running
        var body = "<section id=\"status\"><dl>"
        body += "<dt>Database</dt><dd>\(AdminHTML.escape((configuration.databasePath as NSString).lastPathComponent))</dd>"
        body += "<dt>Store</dt><dd>\(AdminHTML.escape(configuration.destination.store.displayName))</dd>"
        body += "<dt>Schedule</dt><dd>\(AdminHTML.escape(configuration.schedule?.expression ?? "off"))</dd>"
        body += "<dt>Next scheduled run</dt><dd id=\"next-run\">\(next.map { BackupMetadata.iso8601($0) } ?? "none")</dd>"
        let lastText: String
        if let last {
            let outcome = last.ok ? "succeeded" : "failed: \(last.error ?? "")"
            lastText = "\(last.trigger) backup \(outcome) at \(BackupMetadata.iso8601(last.finished))"
        } else {
            lastText = "no backup run by this server yet"
        }
        body += "<dt>Last run</dt><dd id=\"last-run\" class=\"\(last.map { $0.ok ? "ok" : "error" } ?? "")\">\(AdminHTML.escape(lastText))</dd>"
        if let running {
            body += "<dt>Running</dt><dd>\(running.trigger.rawValue) backup since \(BackupMetadata.iso8601(running.started))</dd>"
        }
        body += "</dl></section>"
        body += """
            <p><button id="create">Create Backup Now</button> <button id="cleanup">Clean up old backups</button> \
            <button id="signout">Sign out</button></p>
            <p id="message" role="status"></p>
            <table id="backups"><thead><tr><th>Backup</th><th>Size</th><th>Age</th><th></th><th>Verification</th></tr></thead><tbody>
            """
        for entry in entries {
            let key = entry.info.key
            let encoded = key.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? key
            body += "<tr data-key=\"\(AdminHTML.escape(encoded))\"><td class=\"key\">\(AdminHTML.escape(key))</td>"
            body += "<td>\(AdminHTML.size(entry.info.size))</td><td title=\"\(BackupMetadata.iso8601(entry.key.timestamp))\">\(AdminHTML.age(now.timeIntervalSince(entry.key.timestamp)))</td>"
            body += "<td><button class=\"download\">Download</button> <button class=\"verify\">Verify</button></td><td class=\"result\"></td></tr>"
        }
        body += "</tbody></table><p id=\"total\">\(entries.count) backup\(entries.count == 1 ? "" : "s")</p>"
        return AdminHTML.page(title: "Backups", body: body, script: AdminHTML.listScript)
    }

    static func html(_ text: String, status: HTTPResponse.Status) -> Response {
        Response(status: status, headers: [
            .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
            .contentSecurityPolicy: "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        ], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

/// The page's markup and its small inline script.
enum AdminHTML {
    static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }

    static func size(_ bytes: Int) -> String {
        if bytes < 1024 { return "\(bytes) B" }
        if bytes < 1_048_576 { return String(format: "%.1f KiB", Double(bytes) / 1024) }
        return String(format: "%.2f MiB", Double(bytes) / 1_048_576)
    }

    static func age(_ seconds: TimeInterval) -> String {
        let s = max(0, Int(seconds))
        if s < 60 { return "\(s) s" }
        if s < 3600 { return "\(s / 60) min" }
        if s < 86_400 { return "\(s / 3600) h \(s % 3600 / 60) min" }
        return "\(s / 86_400) d \(s % 86_400 / 3600) h"
    }

    static func page(title: String, body: String, script: String = "") -> String {
        """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
        <title>\(escape(title)) · Backstream</title>
        <style>
        body{font-family:system-ui,sans-serif;margin:2rem;max-width:60rem}
        table{border-collapse:collapse;width:100%}td,th{padding:.3rem .6rem;border-bottom:1px solid #ddd;text-align:left}
        dt{font-weight:600;float:left;clear:left;width:11rem}dd{margin:0 0 .2rem 11rem}
        .ok{color:#176f2c}.error{color:#a4161a}.key{font-family:monospace}
        </style></head>
        <body><h1>\(escape(title))</h1>
        \(body)
        <script>
        \(script)
        </script>
        </body></html>
        """
    }

    static func signIn(note: String) -> String {
        page(title: "Backups", body: """
            <form id="signin"><p>\(escape(note))</p>
            <label>Admin token <input type="password" id="token" autocomplete="off" required></label>
            <button type="submit">Sign in</button></form>
            """, script: signInScript)
    }

    static let signInScript = """
        document.getElementById('signin').addEventListener('submit', (e) => {
          e.preventDefault();
          const t = document.getElementById('token').value.trim();
          sessionStorage.setItem('backstream_token', t);
          // The server sets the session cookie (HttpOnly): this script never sees it again.
          fetch('/admin/session', { method: 'POST', headers: { Authorization: 'Bearer ' + t } }).then(() => location.reload());
        });
        """

    static let listScript = """
        const token = () => sessionStorage.getItem('backstream_token') || '';
        const message = (text, ok) => { const m = document.getElementById('message'); m.textContent = text; m.className = ok ? 'ok' : 'error'; };
        const flash = sessionStorage.getItem('backstream_flash');
        if (flash) { sessionStorage.removeItem('backstream_flash'); const f = JSON.parse(flash); message(f.text, f.ok); }
        async function call(method, url) {
          const r = await fetch(url, { method, headers: { Authorization: 'Bearer ' + token() } });
          let body = {};
          try { body = await r.json(); } catch (e) {}
          return { status: r.status, body };
        }
        function reloadWith(text, ok) { sessionStorage.setItem('backstream_flash', JSON.stringify({ text, ok })); location.reload(); }
        document.getElementById('create').addEventListener('click', async (e) => {
          e.target.disabled = true; message('Creating backup…', true);
          const r = await call('POST', '/api/admin/backup');
          if (r.status === 200) reloadWith('Created ' + r.body.key + ' (' + r.body.size + ' bytes)', true);
          else { e.target.disabled = false; message('Backup failed (' + r.status + '): ' + (r.body.error || ''), false); }
        });
        document.getElementById('cleanup').addEventListener('click', async () => {
          const r = await call('DELETE', '/api/admin/backup');
          if (r.status === 200) reloadWith('Deleted ' + r.body.deleted_count + ' old backups', true);
          else message('Clean-up failed (' + r.status + '): ' + (r.body.error || ''), false);
        });
        document.getElementById('signout').addEventListener('click', () => {
          sessionStorage.removeItem('backstream_token');
          fetch('/admin/session', { method: 'DELETE' }).then(() => location.reload());
        });
        for (const row of document.querySelectorAll('#backups tbody tr')) {
          const key = row.dataset.key, result = row.querySelector('.result');
          row.querySelector('.verify').addEventListener('click', async () => {
            result.textContent = 'verifying…'; result.className = 'result';
            const r = await call('POST', '/api/admin/backup/' + key + '/verify');
            const ok = r.status === 200 && r.body.ok;
            result.textContent = ok ? 'verified: ' + r.body.rows + ' rows, integrity ' + r.body.integrity_check
                                    : 'failed (' + r.status + '): ' + (r.body.error || (r.body.problems || []).join('; '));
            result.className = 'result ' + (ok ? 'ok' : 'error');
          });
          row.querySelector('.download').addEventListener('click', async () => {
            const r = await fetch('/api/admin/backup/' + key + '/download', { headers: { Authorization: 'Bearer ' + token() } });
            if (!r.ok) { message('Download failed (' + r.status + ')', false); return; }
            const a = document.createElement('a');
            a.href = URL.createObjectURL(await r.blob());
            a.download = decodeURIComponent(key).split('/').pop();
            document.body.appendChild(a); a.click(); a.remove();
          });
        }
        """
}
