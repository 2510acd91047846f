/// Why an object-store operation failed. The description names the store and the key, says what
/// went wrong and what to do next; it never contains a secret.
public struct ObjectStoreError: Error, CustomStringConvertible, Sendable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Base: String, Hashable, Sendable {
            case wrongCredentials, accessDenied, noSuchBucket, notFound, unreachable, timeout,
                 connectionLost, serverError, invalidLocation, missingConfiguration, invalidArgument,
                 localFailure, aborted
        }
        fileprivate let base: Base
        fileprivate init(_ base: Base) { self.base = base }
        public var description: String { base.rawValue }

        public static let wrongCredentials = Code(.wrongCredentials)
        public static let accessDenied = Code(.accessDenied)
        public static let noSuchBucket = Code(.noSuchBucket)
        public static let notFound = Code(.notFound)
        public static let unreachable = Code(.unreachable)
        public static let timeout = Code(.timeout)
        public static let connectionLost = Code(.connectionLost)
        public static let serverError = Code(.serverError)
        public static let invalidLocation = Code(.invalidLocation)
        public static let missingConfiguration = Code(.missingConfiguration)
        public static let invalidArgument = Code(.invalidArgument)
        public static let localFailure = Code(.localFailure)
        public static let aborted = Code(.aborted)
    }

    public let code: Code
    /// The store's display name (`s3://bucket`, `folder /path`).
    public let store: String
    public let key: String?
    /// What the server or the system said (S3 error code and message, curl or errno text).
    public let cause: String
    /// The S3 error code (`SlowDown`, `NoSuchKey`) or HTTP status when the server answered.
    public let serverCode: String?
    public let httpStatus: Int?
    /// Set when repeating the request could do harm (bytes of a download already went out).
    var isFinal = false

    init(_ code: Code, store: String, key: String?, cause: String,
         serverCode: String? = nil, httpStatus: Int? = nil) {
        self.code = code
        self.store = store
        self.key = key
        self.cause = cause
        self.serverCode = serverCode
        self.httpStatus = httpStatus
    }

    public var description: String {
        let target = key.map { "\(store)/\($0)" } ?? store
        switch code.base {
        case .wrongCredentials:
            return "\(target) rejected the credentials (\(cause)); check the access key id and secret "
                + "(AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or R2_ACCESS_KEY_ID/R2_SECRET_ACCESS_KEY) and the region"
        case .accessDenied:
            return "access to \(target) was denied (\(cause)); give the access key permission for this bucket"
        case .noSuchBucket:
            return "the bucket of \(store) does not exist (\(cause)); create it or fix the bucket name"
        case .notFound:
            return "there is no object at \(target) (\(cause)); list the prefix to see which keys exist"
        case .unreachable:
            return "cannot reach \(store) (\(cause)); check the endpoint URL and the network"
        case .timeout:
            return "\(target) did not answer in time (\(cause)); check the network or retry later"
        case .connectionLost:
            return "the connection to \(store) broke while transferring \(key ?? "a request") (\(cause)); retry later"
        case .serverError:
            return "\(target) answered with an error: \(cause)"
        case .invalidLocation:
            return "cannot use \(store) as a storage location: \(cause)"
        case .missingConfiguration:
            return "\(store) is not configured: \(cause)"
        case .invalidArgument:
            return "cannot store \(target): \(cause)"
        case .localFailure:
            return "\(target): \(cause)"
        case .aborted:
            return "the upload to \(target) was aborted (\(cause)); nothing was stored"
        }
    }

    /// Errors a later attempt may not see: throttling, server hiccups, broken connections.
    var isRetryable: Bool {
        if isFinal { return false }
        switch code.base {
        case .timeout, .connectionLost, .unreachable: return true
        case .serverError:
            if let status = httpStatus, [500, 502, 503, 504].contains(status) { return true }
            return ["RequestTimeout", "SlowDown", "InternalError", "ServiceUnavailable"].contains(serverCode ?? "")
        default: return false
        }
    }
}
