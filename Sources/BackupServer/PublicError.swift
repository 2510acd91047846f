import Backup
import Encryption
import Foundation
import Hummingbird
import ObjectStore

/// What an HTTP answer (or /healthz) may say about a failure: one sentence, no file-system
/// path, no upstream error text. The detail goes to the log under the request id.
enum PublicError {
    static func newRequestID() -> String {
        String(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16))
    }

    /// The status and the sentence for `error`.
    static func describe(_ error: any Error) -> (status: HTTPResponse.Status, sentence: String) {
        switch error {
        case ServerError.busy: return (.conflict, "a backup is already running")
        case ServerError.shuttingDown: return (.serviceUnavailable, "the server is shutting down")
        case ServerError.notFound(let message): return (.notFound, message)
        case ServerError.badRequest(let message): return (.badRequest, message)
        case let e as BackupError where e.code == .notFound: return (.notFound, "there is no backup with this key")
        case let e as BackupError where e.code == .noBackups: return (.notFound, "there are no backups yet")
        case let e as BackupError where e.code == .notABackup:
            return (.badRequest, "the key is not a backup key (expected database-YYYY-MM-DD-HH-MM-SS.sql.gz or .sql.zst)")
        case let e as EncryptionError:
            switch e.code {
            case .identityRequired: return (.unprocessableContent, "the backup is encrypted and the server has no identity (BACKSTREAM_AGE_IDENTITY)")
            case .wrongIdentity: return (.unprocessableContent, "the server's identity cannot decrypt this backup")
            default: return (.unprocessableContent, "the encrypted backup is damaged or was modified")
            }
        case let e as ObjectStoreError:
            switch e.code {
            case .wrongCredentials: return (.badGateway, "the store rejected the server's credentials")
            case .accessDenied: return (.badGateway, "the store denied access")
            case .noSuchBucket: return (.badGateway, "the store's bucket does not exist")
            case .notFound: return (.notFound, "there is no backup with this key")
            case .unreachable, .connectionLost: return (.badGateway, "the store could not be reached")
            case .timeout: return (.gatewayTimeout, "the store did not answer in time")
            case .serverError: return (.badGateway, "the store answered with an error")
            case .invalidArgument: return (.badRequest, "the store cannot use this key")
            case .aborted: return (.internalServerError, "the upload was aborted; nothing was stored")
            case .localFailure: return (.internalServerError, "the store's folder could not be read or written")
            default: return (.internalServerError, "the store is not usable as configured")
            }
        default:
            return (.internalServerError, "an internal error occurred")
        }
    }
}
