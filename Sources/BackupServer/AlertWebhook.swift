#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Backup
import Foundation
import Logging

/// BACKSTREAM_ALERT_WEBHOOK: a JSON POST when a scheduled backup fails. A failing webhook is
/// logged, never retried in a loop, and never delays the next backup.
struct AlertWebhook: Sendable {
    let url: URL
    let logger: Logger

    func send(run: BackupRun, database: String) async {
        let alert = AlertAnswer(database: (database as NSString).lastPathComponent, error: run.error ?? "",
                                started: BackupMetadata.iso8601(run.started), finished: BackupMetadata.iso8601(run.finished))
        guard let body = try? OrderedJSONEncoder.render(alert) else { return }
        var request = URLRequest(url: url, timeoutInterval: 10)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(body.utf8)
        let status: Int = await withCheckedContinuation { continuation in
            URLSession.shared.dataTask(with: request) { _, response, error in
                continuation.resume(returning: error == nil ? (response as? HTTPURLResponse)?.statusCode ?? 0 : -1)
            }.resume()
        }
        // The URL may carry a secret (Slack-style hooks): log only its host.
        if (200..<300).contains(status) {
            logger.info("alert webhook delivered", metadata: ["host": "\(url.host ?? "")"])
        } else {
            logger.error("alert webhook failed", metadata: ["host": "\(url.host ?? "")", "status": "\(status)"])
        }
    }
}
