import Hummingbird

/// The body of every refusal and failure: the sentence, and for job failures the request id
/// the log keeps the detail under (and, for a busy server, when the running backup started).
struct ErrorAnswer: ResponseEncodable {
    var error: String
    var started: String?
    var holder: String?
    var requestID: String?

    enum CodingKeys: String, CodingKey { case error, started, holder, requestID = "request_id" }
}

/// `{"success":true}`: the admin session was set or cleared.
struct SuccessAnswer: ResponseEncodable {
    var success = true
}

/// The alert webhook's POST body.
struct AlertAnswer: Encodable {
    var event = "scheduled_backup_failed"
    var database: String
    var error: String
    var started: String
    var finished: String
}
