import Backup
import Hummingbird
import Logging

/// Every refusal and failure the API answers with, thrown by middleware and handlers and
/// turned into a response by the router: a status, headers and an `ErrorAnswer`.
struct ErrorResponse: HTTPResponseError {
    let status: HTTPResponse.Status
    let headers: HTTPFields
    let answer: ErrorAnswer

    init(_ message: String, status: HTTPResponse.Status, headers: HTTPFields = [:]) {
        self.status = status
        self.headers = headers
        answer = ErrorAnswer(error: message)
    }

    private init(status: HTTPResponse.Status, answer: ErrorAnswer) {
        self.status = status
        headers = [:]
        self.answer = answer
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        try OrderedJSONEncoder.response(answer, status: status, headers: headers)
    }

    static func tooMany(_ wait: Int) -> ErrorResponse {
        ErrorResponse("too many requests; retry in \(wait) s", status: .tooManyRequests, headers: [.retryAfter: String(wait)])
    }

    static func unauthorized(_ message: String = "unauthorized") -> ErrorResponse {
        ErrorResponse(message, status: .unauthorized, headers: [.wwwAuthenticate: "Bearer"])
    }

    /// The answer to an error thrown by a job: the public sentence (`PublicError`) and a
    /// request id; the detail is logged under that id.
    static func failure(_ error: any Error, _ operation: String, logger: Logger) -> ErrorResponse {
        if let already = error as? ErrorResponse { return already }
        let (status, sentence) = PublicError.describe(error)
        let requestID = PublicError.newRequestID()
        var answer = ErrorAnswer(error: "", requestID: requestID)
        if case ServerError.busy(let started, let holder) = error {
            answer.started = started.map(BackupMetadata.iso8601)
            answer.holder = holder
        }
        let level: Logger.Level = status.code >= 500 ? .error : .notice
        logger.log(level: level, "\(operation) failed", metadata: ["request_id": "\(requestID)", "status": "\(status.code)", "error": "\(error)"])
        answer.error = status == .conflict || status.code < 500 ? sentence : "\(operation) failed: \(sentence) (request id \(requestID))"
        return ErrorResponse(status: status, answer: answer)
    }
}
