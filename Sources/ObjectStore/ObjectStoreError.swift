/// Why an object-store operation failed. The description names the store and the key, says what
/// went wrong and what to do next; it never contains a secret.
package struct ObjectStoreError: Error, CustomStringConvertible, Sendable {
    package struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Base: String, Hashable, Sendable {
            case wrongCredentials, accessDenied, noSuchBucket, notFound, unreachable, timeout,
                 connectionLost, serverError, invalidLocation, missingConfiguration, invalidArgument,
                 localFailure, aborted, symlinkRefused, resumeMismatch, preconditionFailed
        }
        fileprivate let base: Base
        fileprivate init(_ base: Base) { self.base = base }
        package var description: String { base.rawValue }

        package static let wrongCredentials = Code(.wrongCredentials)
        package static let accessDenied = Code(.accessDenied)
        package static let noSuchBucket = Code(.noSuchBucket)
        package static let notFound = Code(.notFound)
        package static let unreachable = Code(.unreachable)
        package static let timeout = Code(.timeout)
        package static let connectionLost = Code(.connectionLost)
        package static let serverError = Code(.serverError)
        package static let invalidLocation = Code(.invalidLocation)
        package static let missingConfiguration = Code(.missingConfiguration)
        package static let invalidArgument = Code(.invalidArgument)
        package static let localFailure = Code(.localFailure)
        package static let aborted = Code(.aborted)
        /// A folder store met a symbolic link on the way to a key and refused to follow it.
        package static let symlinkRefused = Code(.symlinkRefused)
        /// A resumed download's answer does not continue the bytes already delivered.
        package static let resumeMismatch = Code(.resumeMismatch)
        /// A conditional write (`WriteCondition`) was refused: another writer got there first.
        package static let preconditionFailed = Code(.preconditionFailed)
    }

    /// The step of a write that failed, so a failure at the end says which request it was.
    package struct Stage: Hashable, Sendable, CustomStringConvertible {
        private let before: String
        private let after: String
        private init(_ before: String, _ after: String) {
            self.before = before
            self.after = after
        }
        package var description: String { phrase("the object") }
        /// The step, naming `key`: "completing the multipart upload of db.sql.gz".
        package func phrase(_ key: String) -> String { before + key + after }

        package static let putObject = Stage("storing ", " with a single PutObject")
        package static let createMultipartUpload = Stage("starting the multipart upload of ", "")
        package static let uploadPart = Stage("uploading a part of ", "")
        package static let completeMultipartUpload = Stage("completing the multipart upload of ", "")
        package static let copyMetadata = Stage("rewriting the metadata of ", " by a server-side copy")
        package static let writeFile = Stage("writing the temporary file of ", "")
        package static let syncFile = Stage("flushing ", " to disk")
        package static let renameFile = Stage("moving ", " into place")
        package static let writeMetadata = Stage("writing the metadata file of ", "")
    }

    package let code: Code
    /// The store's display name (`s3://bucket`, `folder /path`).
    package let store: String
    package let key: String?
    /// What the server or the system said (S3 error code and message, curl or errno text).
    package let cause: String
    /// The S3 error code (`SlowDown`, `NoSuchKey`) or HTTP status when the server answered.
    package let serverCode: String?
    package let httpStatus: Int?
    /// Set when repeating the request could do harm (bytes of a download already went out).
    var isFinal = false
    /// True when the key (or prefix) itself was refused before any request or file access:
    /// the caller's input is wrong, not the store.
    package internal(set) var isInvalidKey = false
    /// The step of an upload that failed, when it failed while writing.
    package internal(set) var stage: Stage?

    init(_ code: Code, store: String, key: String?, cause: String,
         serverCode: String? = nil, httpStatus: Int? = nil) {
        self.code = code
        self.store = store
        self.key = key
        self.cause = cause
        self.serverCode = serverCode
        self.httpStatus = httpStatus
    }

    package var description: String {
        guard let stage else { return plainDescription }
        return "\(stage.phrase(key ?? "the object")) failed: \(plainDescription)"
    }

    /// The same error, marked as failing at `stage` (an earlier stage is kept).
    func at(_ stage: Stage) -> ObjectStoreError {
        var copy = self
        if copy.stage == nil { copy.stage = stage }
        return copy
    }

    /// `error` as an `ObjectStoreError` of `store` and `key` that failed at `stage`.
    static func wrap(_ error: Error, stage: Stage, store: String, key: String) -> ObjectStoreError {
        if let known = error as? ObjectStoreError { return known.at(stage) }
        return ObjectStoreError(.localFailure, store: store, key: key, cause: "\(error)").at(stage)
    }

    static let objectReplaced = "the object was replaced while it was being downloaded; run the command again"

    static func invalidKey(store: String, key: String, cause: String) -> ObjectStoreError {
        // A 2,000-character key in every message helps nobody: show its start.
        let shown = key.unicodeScalars.count > 120 ? String(String.UnicodeScalarView(key.unicodeScalars.prefix(100))) + "…" : key
        var error = ObjectStoreError(.invalidArgument, store: store, key: shown.debugEscapedControls, cause: cause)
        error.isInvalidKey = true
        return error
    }

    private var plainDescription: String {
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
        case .serverError, .resumeMismatch:
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
        case .preconditionFailed:
            return "another writer got there first: \(target) was created or changed by someone else (\(cause)); nothing was overwritten"
        case .symlinkRefused:
            return "refusing \(target): \(cause); a folder store never follows symbolic links, "
                + "so nothing outside its folder is read or written; remove the link or point the store at the real folder"
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

extension String {
    /// Control characters as `\u{…}`, so a key in a message cannot forge lines or colours.
    var debugEscapedControls: String {
        var out = ""
        for scalar in unicodeScalars {
            if scalar.value < 0x20 || scalar.value == 0x7F {
                out += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
